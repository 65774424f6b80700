"""Roles and tokens at the API's edge: 401 without a valid token, 403 for the wrong role
or another partner's data; nothing appended on refusal."""

from __future__ import annotations

import asyncpg

from server.auth.tokens import issue, revoke
from tests.api.conftest import Api, ev
from tests.api.test_bad_input import assert_problem


async def test_no_token_gets_401(api: Api) -> None:
    response = await api.client.post("/v1/events", json=ev("PartnerRegistered"))
    assert_problem(response, 401)
    response = await api.client.get("/v1/events", headers={"Authorization": "Basic abc"})
    assert_problem(response, 401)


async def test_an_unknown_token_gets_401(api: Api) -> None:
    response = await api.client.get("/v1/events", headers={"Authorization": "Bearer hmk_wrong"})
    assert_problem(response, 401)


async def test_a_revoked_token_gets_401(api: Api, database_url: str) -> None:
    assert (await api.get("auditor", "/v1/events")).status_code == 200
    conn = await asyncpg.connect(database_url)
    try:
        await revoke(conn, "test-auditor")
    finally:
        await conn.close()
    assert_problem(await api.get("auditor", "/v1/events"), 401)


async def test_an_auditor_cannot_post_at_all(api: Api) -> None:
    assert_problem(await api.post("auditor", ev("PartnerRegistered")), 403)
    assert await api.count() == 0


async def test_a_partner_cannot_post_admin_events(api: Api) -> None:
    for body in (ev("PartnerRegistered", partner_id="nrc"), ev("SiteRegistered")):
        assert_problem(await api.post("nrc", body), 403)
    assert await api.count() == 0


async def test_a_partner_cannot_post_for_another_partner(api: Api) -> None:
    await api.setup_world()
    before = await api.count()
    problem = assert_problem(
        await api.post("nrc", ev("ServiceDelivered", partner_id="ayandeh")), 403
    )
    assert "ayandeh" in problem["detail"]
    assert_problem(await api.post("nrc", ev("PledgeMade", partner_id="ayandeh")), 403)
    assert await api.count() == before


async def test_a_partner_cannot_act_on_another_partners_pledge(api: Api) -> None:
    await api.setup_world()
    made = ev("PledgeMade", partner_id="ayandeh", site_id=None)
    assert (await api.post("ayandeh", made)).status_code == 201
    pledge_id = made["data"]["pledge_id"]
    before = await api.count()
    assert_problem(await api.post("nrc", ev("PledgeCancelled", pledge_id=pledge_id)), 403)
    assert_problem(await api.post("nrc", ev("DisbursementRecorded", pledge_id=pledge_id)), 403)
    assert await api.count() == before


async def test_a_coordinator_may_not_post_deliveries_or_admin_events(api: Api) -> None:
    await api.setup_world()
    before = await api.count()
    assert_problem(await api.post("coordinator", ev("ServiceDelivered")), 403)
    assert_problem(await api.post("coordinator", ev("PartnerSuspended")), 403)
    assert await api.count() == before


async def test_a_partner_cannot_read_another_partners_stream_or_the_whole_log(api: Api) -> None:
    await api.setup_world()
    made = ev("PledgeMade", partner_id="ayandeh", site_id=None)
    assert (await api.post("ayandeh", made)).status_code == 201
    stream = f"pledge-{made['data']['pledge_id']}"
    assert (await api.get("ayandeh", f"/v1/streams/{stream}/events")).status_code == 200
    assert_problem(await api.get("nrc", f"/v1/streams/{stream}/events"), 403)
    assert_problem(await api.get("nrc", f"/v1/streams/{stream}"), 403)
    assert_problem(await api.get("nrc", "/v1/events"), 403)
    assert (await api.get("nrc", "/v1/streams/partner-nrc/events")).status_code == 200
    assert (await api.get("auditor", f"/v1/streams/{stream}/events")).status_code == 200


async def test_every_event_records_who_appended_it(api: Api) -> None:
    await api.setup_world()
    response = await api.post("nrc", ev("ChallengeReported"), headers={"X-Request-Id": "req-42"})
    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == "req-42"
    [event] = (
        await api.get("auditor", f"/v1/events?after={response.json()['position'] - 1}")
    ).json()["events"]
    assert event["recorded_by"] == {"principal": "test-nrc", "role": "partner", "partner_id": "nrc"}
    assert event["request_id"] == "req-42"


# A token that posted is known to the worker, which then skips looking it up for posts
# (KnownTokens): revoking it must still hold at once, whatever the post would get.


async def revoked(database_url: str, name: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await revoke(conn, name)
    finally:
        await conn.close()


async def known_then_revoked(api: Api, database_url: str) -> dict[str, object]:
    """nrc posts once (its token now known), then its token is revoked."""
    await api.setup_world()
    event = ev("ServiceDelivered")
    assert (await api.post("nrc", event)).status_code == 201
    await revoked(database_url, "test-nrc")
    return event


async def test_a_known_token_revoked_cannot_append(api: Api, database_url: str) -> None:
    await known_then_revoked(api, database_url)
    before = await api.count()

    assert_problem(await api.post("nrc", ev("ServiceDelivered")), 401)
    assert_problem(await api.post("nrc", [ev("ChallengeReported"), ev("ServiceDelivered")]), 401)

    assert await api.count() == before


async def test_a_known_token_revoked_gets_401_not_the_answer_to_its_post(
    api: Api, database_url: str
) -> None:
    """A retry (200), a broken rule (422), bad JSON (400), a wrong media type (415):
    each would be answered without an append, so the token is looked up first."""
    event = await known_then_revoked(api, database_url)
    before = await api.count()

    assert_problem(await api.post("nrc", event), 401)
    assert_problem(await api.post("nrc", ev("ServiceDelivered", site_id="nowhere")), 401)
    bad_json = {"content": b"{", "headers": {"Content-Type": "application/json"}}
    assert_problem(await api.post("nrc", None, **bad_json), 401)
    assert_problem(
        await api.post("nrc", None, content=b"x", headers={"Content-Type": "text/plain"}), 401
    )

    assert await api.count() == before


async def test_a_known_token_still_active_posts_as_before(api: Api) -> None:
    event = ev("ServiceDelivered", id="6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d")
    await api.setup_world()
    created = await api.post("nrc", event)
    assert created.status_code == 201, created.text

    again = await api.post("nrc", event)
    refused = await api.post("nrc", ev("ServiceDelivered", site_id="nowhere"))

    bad_json = await api.post(
        "nrc", None, content=b"{", headers={"Content-Type": "application/json"}
    )
    media = await api.post("nrc", None, content=b"x", headers={"Content-Type": "text/plain"})

    assert (again.status_code, again.json()) == (200, created.json())
    assert_problem(refused, 422)
    assert_problem(bad_json, 400)
    assert_problem(media, 415)
    assert (await api.post("nrc", ev("ServiceDelivered"))).status_code == 201


# Authorization is decided before existence (API.md "Users and roles"): a partner's
# answer never says whether something not its own exists.


async def test_a_partner_reads_its_own_record_and_no_other(api: Api) -> None:
    await api.setup_world()
    caught_up = f"?min_position={await api.count()}"
    assert (await api.get("nrc", "/v1/reports/partners/nrc" + caught_up)).status_code == 200
    for other in ("ayandeh", "nobody-registered"):
        problem = assert_problem(await api.get("nrc", f"/v1/reports/partners/{other}"), 403)
        assert "own record" in problem["detail"]
        assert_problem(await api.get("nrc", f"/v1/reports/partners/{other}?format=csv"), 403)
    assert (await api.get("coordinator", "/v1/reports/partners/ayandeh")).status_code == 200
    missing = "/v1/reports/partners/nobody-registered"
    assert_problem(await api.get("coordinator", missing), 404)


async def test_a_partner_gets_403_for_a_stream_not_its_own_whether_or_not_it_exists(
    api: Api,
) -> None:
    await api.setup_world()
    made = ev("PledgeMade", partner_id="ayandeh", site_id=None)
    assert (await api.post("ayandeh", made)).status_code == 201
    present = f"pledge-{made['data']['pledge_id']}"
    absent = "pledge-00000000-0000-4000-8000-000000000000"
    for stream in (present, absent, "partner-ayandeh", "partner-nobody"):
        events = assert_problem(await api.get("nrc", f"/v1/streams/{stream}/events"), 403)
        state = assert_problem(await api.get("nrc", f"/v1/streams/{stream}"), 403)
        assert events["title"] == state["title"] == "Forbidden"
    # its own partner stream is its own by name: absent is still 404 there
    assert (await api.get("nrc", "/v1/streams/partner-nrc/events")).status_code == 200
    assert_problem(await api.get("nrc", "/v1/streams/partner-nrc?at_position=0"), 404)
    # roles that read every stream may learn what exists
    assert_problem(await api.get("coordinator", f"/v1/streams/{absent}/events"), 404)
    assert_problem(await api.get("auditor", f"/v1/streams/{absent}"), 404)


async def test_an_event_id_another_party_used_is_never_answered_with_its_receipt(
    api: Api, database_url: str
) -> None:
    """A retry is answered only to the party that posted the original (its role and
    partner): to anyone else the id is a conflict naming neither receipt nor position."""
    await api.setup_world()
    event_id = "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9"
    original = ev("ChallengeReported", id=event_id, partner_id="nrc")
    created = await api.post("nrc", original)
    assert created.status_code == 201, created.text
    receipt = created.json()
    before = await api.count()

    own_content = ev("ChallengeReported", id=event_id, partner_id="ayandeh")
    for who, body in (
        ("ayandeh", original),  # the very same event, from another partner
        ("ayandeh", own_content),  # its own event, under an id it saw somewhere
        ("ayandeh", [ev("ChallengeReported", partner_id="ayandeh"), own_content]),
        ("coordinator", original),  # another role, the same content
    ):
        problem = assert_problem(await api.post(who, body), 409)
        assert problem["type"].endswith("/event-id-reused")
        text = str(problem)
        assert "position" not in text, problem
        assert receipt["hash"] not in text and receipt["stream"] not in text
    assert await api.count() == before

    # the same partner, through a rotated token, is the same party: its receipt back
    conn = await asyncpg.connect(database_url)
    try:
        api.tokens["nrc-rotated"] = await issue(
            conn, name="test-nrc-2", role="partner", partner_id="nrc"
        )
    finally:
        await conn.close()
    again = await api.post("nrc-rotated", original)
    assert (again.status_code, again.json()) == (200, receipt)
    # and its own id with other content names its own position
    changed = ev("ChallengeReported", id=event_id, partner_id="nrc", description="other")
    problem = assert_problem(await api.post("nrc", changed), 409)
    assert f"position {receipt['position']}" in problem["detail"]
    assert await api.count() == before
