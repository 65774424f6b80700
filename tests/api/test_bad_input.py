"""Bad input gets a clear RFC 9457 problem and appends nothing; never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, bearer, ev

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    return body


async def post_raw(api: Api, content: bytes, content_type: str = "application/json") -> Any:
    headers = {**bearer(api.tokens["admin"]), "content-type": content_type}
    return await api.client.post("/v1/events", content=content, headers=headers)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"type": "PartnerRegistered", ', "truncated"),
        (b"not json at all", "not json"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "deep nesting"),
        (b"", "empty body"),
        (b"42", "a number"),
    ],
)
async def test_malformed_bodies_get_400(api: Api, content: bytes, why: str) -> None:
    assert_problem(await post_raw(api, content), 400)
    assert await api.count() == 0


async def test_wrong_types_name_the_path(api: Api) -> None:
    body = ev("PartnerRegistered")
    body["data"]["kind"] = 7
    problem = assert_problem(await api.post("admin", body), 400)
    assert problem["errors"][0]["path"] == "data.kind"
    assert await api.count() == 0


async def test_a_path_inside_a_batch_names_its_index(api: Api) -> None:
    body = [ev("PartnerRegistered"), ev("SiteRegistered")]
    body[1]["data"]["province"] = None
    problem = assert_problem(await api.post("admin", body), 400)
    assert problem["errors"][0]["path"] == "[1].data.province"


async def test_unknown_fields_are_refused(api: Api) -> None:
    body = ev("PartnerRegistered")
    body["data"]["favourite_colour"] = "green"
    problem = assert_problem(await api.post("admin", body), 400)
    assert "favourite_colour" in problem["detail"]
    body = ev("PartnerRegistered")
    body["priority"] = "high"
    assert_problem(await api.post("admin", body), 400)


async def test_unknown_event_types_are_refused(api: Api) -> None:
    problem = assert_problem(await api.post("admin", {"type": "PartnerDeleted", "data": {}}), 400)
    assert "PartnerDeleted" in problem["detail"]


async def test_floats_and_negative_counts_are_refused(api: Api) -> None:
    await api.setup_world()
    before = await api.count()
    for beneficiaries in (
        {"women": 1.5, "men": 0, "girls": 0, "boys": 0},
        {"women": -1, "men": 0, "girls": 0, "boys": 0},
    ):
        body = ev("ServiceDelivered", beneficiaries=beneficiaries)
        problem = assert_problem(await api.post("nrc", body), 400)
        assert problem["errors"][0]["path"] == "data.beneficiaries.women"
    assert await api.count() == before


async def test_wrong_content_type_gets_415(api: Api) -> None:
    content = b'{"type": "PartnerRegistered", "data": {}}'
    assert_problem(await post_raw(api, content, "text/plain"), 415)
    assert_problem(await post_raw(api, content, "application/x-www-form-urlencoded"), 415)


async def test_a_huge_body_gets_413(api: Api) -> None:
    content = b'{"type": "PartnerRegistered", "data": {"name_en": "' + b"x" * (9 * 2**20) + b'"}}'
    assert_problem(await post_raw(api, content), 413)
    assert await api.count() == 0


async def test_more_than_1000_events_in_a_batch_are_refused(api: Api) -> None:
    batch = [ev("PartnerRegistered", partner_id=f"p{i}") for i in range(1001)]
    problem = assert_problem(await api.post("admin", batch), 400)
    assert "1000" in problem["detail"] or "1,000" in problem["detail"]
    assert await api.count() == 0


async def test_an_empty_batch_is_refused(api: Api) -> None:
    assert_problem(await api.post("admin", []), 400)


async def test_unknown_routes_and_methods_are_problems_too(api: Api) -> None:
    assert_problem(await api.get("admin", "/v1/nowhere"), 404)
    response = await api.client.delete("/v1/events", headers=bearer(api.tokens["admin"]))
    assert_problem(response, 405)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/events?after=9223372036854775808",
        "/v1/streams/partner-nrc?at_position=9223372036854775808",
        "/v1/audit/proofs/inclusion?position=9223372036854775808",
        "/v1/reports/who-what-where?at_position=9223372036854775808",
    ],
)
async def test_positions_beyond_what_json_carries_exactly_get_400(api: Api, path: str) -> None:
    """Every position parameter stops at 2^53 - 1: beyond PostgreSQL's bigint it was a 500."""
    assert_problem(await api.get("admin", path), 400)


async def test_a_405_names_the_methods_the_resource_has(api: Api) -> None:
    """RFC 9110: a 405 carries Allow."""
    response = await api.client.delete("/v1/events", headers=bearer(api.tokens["admin"]))
    assert_problem(response, 405)
    assert len(response.headers.get_list("allow")) == 1  # once: it was sent twice
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "POST"}
    response = await api.client.get(
        "/v1/admin/projections/all/rebuild", headers=bearer(api.tokens["admin"])
    )
    assert_problem(response, 405)
    assert "POST" in response.headers["allow"] and "GET" not in response.headers["allow"]
