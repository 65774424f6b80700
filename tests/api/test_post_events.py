"""POST /v1/events: receipts, atomic batches, idempotent retries, version conflicts and
rules, over HTTP as a partner's system would use them."""

from __future__ import annotations

import asyncio
import uuid

from tests.api.conftest import Api, ev
from tests.api.test_bad_input import assert_problem


async def test_one_event_gets_201_and_a_receipt(api: Api) -> None:
    event_id = str(uuid.uuid4())
    response = await api.post("admin", ev("PartnerRegistered", id=event_id))
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["id"] == event_id
    assert receipt["type"] == "PartnerRegistered"
    assert (receipt["stream"], receipt["version"], receipt["position"]) == ("partner-nrc", 1, 1)
    assert len(receipt["hash"]) == 64 and receipt["recorded_at"].endswith("Z")


async def test_a_batch_gets_receipts_in_order(api: Api) -> None:
    response = await api.post(
        "admin",
        [
            ev("PartnerRegistered", partner_id="nrc"),
            ev("SiteRegistered", site_id="gol-tappeh"),
            ev("SiteClosed", site_id="gol-tappeh"),
        ],
    )
    assert response.status_code == 201, response.text
    receipts = response.json()
    assert [r["position"] for r in receipts] == [1, 2, 3]
    assert [(r["stream"], r["version"]) for r in receipts] == [
        ("partner-nrc", 1),
        ("site-gol-tappeh", 1),
        ("site-gol-tappeh", 2),
    ]


async def test_a_single_event_in_an_array_gets_an_array(api: Api) -> None:
    response = await api.post("admin", [ev("PartnerRegistered")])
    assert response.status_code == 201
    assert isinstance(response.json(), list)


async def test_retrying_with_the_same_id_returns_the_original_receipt(api: Api) -> None:
    body = ev("PartnerRegistered", id=str(uuid.uuid4()))
    first = await api.post("admin", body)
    again = await api.post("admin", body)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert await api.count() == 1


async def test_retrying_a_whole_batch_appends_nothing(api: Api) -> None:
    batch = [ev("PartnerRegistered", partner_id=f"p{i}", id=str(uuid.uuid4())) for i in range(5)]
    first = await api.post("admin", batch)
    again = await api.post("admin", batch)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert await api.count() == 5


async def test_concurrent_retries_append_once(api: Api) -> None:
    body = ev("PartnerRegistered", id=str(uuid.uuid4()))
    responses = await asyncio.gather(*(api.post("admin", body) for _ in range(8)))
    assert sorted(r.status_code for r in responses).count(201) == 1
    assert {r.json()["position"] for r in responses} == {1}
    assert await api.count() == 1


async def test_the_same_id_with_other_content_is_409(api: Api) -> None:
    event_id = str(uuid.uuid4())
    await api.post("admin", ev("PartnerRegistered", id=event_id))
    problem = assert_problem(
        await api.post("admin", ev("PartnerRegistered", id=event_id, name_en="Other")), 409
    )
    assert event_id in problem["detail"]
    assert await api.count() == 1


async def test_expected_version_conflict_is_409_with_the_current_version(api: Api) -> None:
    await api.setup_world()
    ok = await api.post("admin", ev("PartnerSuspended", partner_id="nrc", expected_version=1))
    assert ok.status_code == 201, ok.text
    problem = assert_problem(
        await api.post("admin", ev("PartnerReinstated", partner_id="nrc", expected_version=1)),
        409,
    )
    assert problem["current_version"] == 2
    assert await api.count() == 5


async def test_a_broken_rule_is_422_naming_it_and_appends_nothing(api: Api) -> None:
    await api.setup_world()
    before = await api.count()
    problem = assert_problem(
        await api.post("admin", ev("PartnerRegistered", partner_id="nrc")), 422
    )
    assert problem["type"].endswith("/rules/partner-already-registered")
    assert await api.count() == before


async def test_an_atomic_batch_with_one_bad_event_appends_none(api: Api) -> None:
    await api.setup_world()
    before = await api.count()
    batch = [
        ev("ChallengeReported"),
        ev("ServiceDelivered"),
        ev("ServiceDelivered", site_id="nowhere"),  # unknown site: a rule is broken
    ]
    assert_problem(await api.post("nrc", batch), 422)
    assert await api.count() == before


async def test_later_events_in_a_batch_see_earlier_ones(api: Api) -> None:
    await api.setup_world()
    made = ev("PledgeMade", site_id=None, amount="100.00", currency="EUR")
    pledge_id = made["data"]["pledge_id"]
    response = await api.post(
        "nrc",
        [
            made,
            ev("DisbursementRecorded", pledge_id=pledge_id, amount="60.00", currency="EUR"),
            ev("DisbursementRecorded", pledge_id=pledge_id, amount="40.00", currency="EUR"),
        ],
    )
    assert response.status_code == 201, response.text
    over = ev("DisbursementRecorded", pledge_id=pledge_id, amount="0.01", currency="EUR")
    problem = assert_problem(await api.post("nrc", over), 422)
    assert "disburse" in problem["type"]


async def test_a_suspended_partner_cannot_post(api: Api) -> None:
    await api.setup_world()
    assert (await api.post("admin", ev("PartnerSuspended", partner_id="nrc"))).status_code == 201
    before = await api.count()
    assert_problem(await api.post("nrc", ev("ChallengeReported")), 422)
    assert await api.count() == before
    assert (await api.post("admin", ev("PartnerReinstated", partner_id="nrc"))).status_code == 201
    assert (await api.post("nrc", ev("ChallengeReported"))).status_code == 201


async def test_a_refused_batch_leaves_no_trace_in_the_cached_aggregates(api: Api) -> None:
    """Aggregates are cached and shared between requests; a decision works on copies.
    A batch that disburses from a pledge and then breaks a rule must not leave the
    cached pledge believing the disbursement happened."""
    await api.setup_world()
    made = ev("PledgeMade", site_id=None, amount="100.00", currency="EUR")
    pledge_id = made["data"]["pledge_id"]
    assert (await api.post("nrc", made)).status_code == 201
    refused = [
        ev("DisbursementRecorded", pledge_id=pledge_id, amount="70.00", currency="EUR"),
        ev("ServiceDelivered", site_id="nowhere"),
    ]
    assert_problem(await api.post("nrc", refused), 422)
    # the whole 100.00 is still there to disburse, and the stream is still at version 1
    # (no expected_version: that would make the service read the stream afresh)
    whole = ev("DisbursementRecorded", pledge_id=pledge_id, amount="100.00", currency="EUR")
    response = await api.post("nrc", whole)
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 2
