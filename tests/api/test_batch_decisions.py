"""A batch is decided as a batch (server/services/deciding.py): first events without
their aggregates, each distinct check once. What an earlier event of the batch changes
must still count for the later ones, and a stream started without its aggregate must
be whole when it is next used."""

from __future__ import annotations

import uuid
from dataclasses import replace

import asyncpg
import msgspec
import pytest

from server.aggregates.lean import CREATIONS
from server.api.events import decode_body
from server.auth.tokens import Principal, Role
from server.eventstore import EventStore
from server.eventstore.appender import Appender
from server.services.posting import PostingService
from server.services.repository import AggregateRepository
from tests.api.conftest import Api, ev
from tests.api.test_bad_input import assert_problem


def delivery(pledge_id: str | None = None, **fields: object) -> dict[str, object]:
    return ev("ServiceDelivered", delivery_id=str(uuid.uuid4()), pledge_id=pledge_id, **fields)


async def test_a_pledge_made_in_a_batch_funds_the_deliveries_after_it(api: Api) -> None:
    await api.setup_world()
    made = ev("PledgeMade", sectors=["education"], amount="100.00", currency="EUR")
    pledge_id = made["data"]["pledge_id"]
    batch = [made, delivery(pledge_id), delivery(pledge_id), delivery(pledge_id)]
    response = await api.post("nrc", batch)
    assert response.status_code == 201, response.text
    assert [r["version"] for r in response.json()] == [1, 1, 1, 1]


async def test_a_pledge_cancelled_mid_batch_funds_no_delivery_after_it(api: Api) -> None:
    """The same delivery fields against the pledge before and after its cancellation:
    the second decision is not the first one's, remembered."""
    await api.setup_world()
    made = ev("PledgeMade", sectors=["education"], amount="100.00", currency="EUR")
    pledge_id = made["data"]["pledge_id"]
    before = await api.count()
    batch = [
        made,
        delivery(pledge_id),
        ev("PledgeCancelled", pledge_id=pledge_id),
        delivery(pledge_id),
    ]
    problem = assert_problem(await api.post("nrc", batch), 422)
    assert problem["type"].endswith("pledge-cancelled"), problem
    assert await api.count() == before


async def test_a_delivery_started_in_a_batch_is_corrected_later_in_it(api: Api) -> None:
    await api.setup_world()
    first = delivery()
    delivery_id = first["data"]["delivery_id"]
    correct = ev("DeliveryCorrected", delivery_id=delivery_id, activity="Numeracy classes")
    response = await api.post("nrc", [first, correct])
    assert response.status_code == 201, response.text
    assert [r["version"] for r in response.json()] == [1, 2]
    # and the stream, built from the log on its next use, has both
    again = ev("DeliveryCorrected", delivery_id=delivery_id, activity="Numeracy classes")
    problem = assert_problem(await api.post("nrc", again), 422)
    assert problem["type"].endswith("correction-changes-nothing"), problem
    retract = ev("DeliveryRetracted", delivery_id=delivery_id)
    response = await api.post("nrc", retract)
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 3


async def test_a_delivery_recorded_twice_in_one_batch_is_refused(api: Api) -> None:
    await api.setup_world()
    first = delivery()
    twice = ev("ServiceDelivered", delivery_id=first["data"]["delivery_id"], activity="Other")
    problem = assert_problem(await api.post("nrc", [first, twice]), 422)
    assert problem["type"].endswith("delivery-already-recorded"), problem


async def test_a_stream_started_alone_is_known_to_exist_afterwards(api: Api) -> None:
    """The started stream is not cached: the next post that names it reads the log."""
    await api.setup_world()
    first = delivery()
    assert (await api.post("nrc", first)).status_code == 201
    again = ev("ServiceDelivered", delivery_id=first["data"]["delivery_id"], activity="Other")
    problem = assert_problem(await api.post("nrc", again), 422)
    assert problem["type"].endswith("delivery-already-recorded"), problem


async def test_a_dry_run_names_every_event_that_breaks_a_rule_decided_once(
    api: Api, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Equal checks are decided once a batch, but every event that fails one is named."""
    await api.setup_world()
    creation = CREATIONS["ServiceDelivered"]
    checked: list[object] = []

    def counted(data: object, ctx: object) -> None:
        checked.append(data)
        creation.check(data, ctx)

    monkeypatch.setitem(CREATIONS, "ServiceDelivered", replace(creation, check=counted))
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    store = EventStore(pool, Appender(pool))
    posting = PostingService(store, AggregateRepository(store))
    bodies = [
        delivery(),
        delivery(site_id="nowhere"),
        delivery(),
        delivery(site_id="nowhere"),
        delivery(period_end="2999-01-31"),
    ]
    envelopes = decode_body(msgspec.json.encode(bodies))
    nrc = Principal(name="test-nrc", role=Role.PARTNER, partner_id="nrc")
    try:
        refused = await posting.check(nrc, envelopes)
    finally:
        await pool.close()
    assert {i: broken.rule for i, broken in refused.items()} == {
        1: "unknown-site",
        3: "unknown-site",
        4: "delivery-in-future",
    }
    assert refused[1] is not refused[3]
    # three distinct sets of what the rules read: three decisions for five events
    assert len(checked) == 3
