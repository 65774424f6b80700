"""Reading: a stream's events, an aggregate as it stood (time travel), the global log in
pages and as a live text/event-stream that resumes from Last-Event-ID."""

from __future__ import annotations

from tests.api.conftest import Api, ev
from tests.api.test_bad_input import assert_problem


async def test_a_streams_events_in_version_order(api: Api) -> None:
    await api.setup_world()
    await api.post("admin", ev("PartnerSuspended", partner_id="nrc"))
    events = (await api.get("auditor", "/v1/streams/partner-nrc/events")).json()
    assert [(e["version"], e["type"]) for e in events] == [
        (1, "PartnerRegistered"),
        (2, "PartnerSuspended"),
    ]
    assert events[1]["data"]["reason"]
    assert_problem(await api.get("auditor", "/v1/streams/partner-nobody/events"), 404)


async def test_an_aggregate_as_it_stood_at_a_position(api: Api) -> None:
    await api.setup_world()
    suspended = (await api.post("admin", ev("PartnerSuspended", partner_id="nrc"))).json()
    now = (await api.get("coordinator", "/v1/streams/partner-nrc")).json()
    assert now["version"] == 2 and now["state"]["active"] is False
    then = (
        await api.get(
            "coordinator", f"/v1/streams/partner-nrc?at_position={suspended['position'] - 1}"
        )
    ).json()
    assert then["version"] == 1 and then["state"]["active"] is True
    as_of = (
        await api.get(
            "coordinator",
            "/v1/streams/partner-nrc",
            params={"as_of": suspended["recorded_at"]},
        )
    ).json()
    assert as_of["version"] == 2
    assert_problem(await api.get("coordinator", "/v1/streams/partner-nrc?at_position=0"), 404)


async def test_the_log_in_pages(api: Api) -> None:
    await api.setup_world()
    first = (await api.get("auditor", "/v1/events?limit=3")).json()
    assert [e["position"] for e in first["events"]] == [1, 2, 3]
    assert first["next_after"] == 3
    rest = (await api.get("auditor", f"/v1/events?after={first['next_after']}")).json()
    assert [e["position"] for e in rest["events"]] == [4]
    empty = (await api.get("auditor", "/v1/events?after=4")).json()
    assert empty == {"events": [], "next_after": 4}
    assert_problem(await api.get("auditor", "/v1/events?limit=0"), 400)


async def test_the_contract_is_served(api: Api) -> None:
    sectors = (await api.client.get("/v1/codes/sectors")).json()
    codes = {c["code"]: c for c in sectors}
    assert codes["education"]["label_fa"] == "آموزش"
    schema = (await api.client.get("/v1/schemas/ServiceDelivered")).json()
    assert "beneficiaries" in schema["properties"] or "$defs" in schema
    assert_problem(await api.client.get("/v1/schemas/Nope"), 404)
    openapi = (await api.client.get("/schema/openapi.json")).json()
    post = openapi["paths"]["/v1/events"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "EventBody"
    )
    assert "EventBody" in openapi["components"]["schemas"]
