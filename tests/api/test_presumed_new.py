"""A stream an event starts is presumed new, unless this worker has it cached, rather
than looked for (docs/write-path.md). When the presumption is wrong, because another
worker started the stream, the answer must be the one a worker that had loaded every
stream would give, and nothing is appended."""

from __future__ import annotations

from litestar import Litestar

from tests.api.conftest import Api, ev
from tests.api.test_bad_input import assert_problem


def as_if_another_worker_wrote(app: Litestar, stream: str) -> None:
    """This worker forgets the stream, as if it had been written by another one."""
    app.state.posting.repository.forget([stream])
    assert not app.state.posting.repository.cached(stream)


async def test_a_delivery_recorded_twice_through_another_worker_is_refused(
    api: Api, app: Litestar
) -> None:
    await api.setup_world()
    first = ev("ServiceDelivered")
    created = await api.post("nrc", first)
    assert created.status_code == 201, created.text
    as_if_another_worker_wrote(app, created.json()["stream"])
    before = await api.count()

    again = ev("ServiceDelivered", delivery_id=first["data"]["delivery_id"])
    problem = assert_problem(await api.post("nrc", [ev("ChallengeReported"), again]), 422)

    assert problem["type"].endswith("/rules/delivery-already-recorded")
    assert await api.count() == before


async def test_a_failed_presumption_answers_as_the_stored_streams_would(
    api: Api, app: Litestar
) -> None:
    """The disbursement, decided against a pledge presumed new, would say "unknown
    pledge"; the stored pledge exists, so the batch's real fault is making it again."""
    await api.setup_world()
    made = ev("PledgeMade", site_id=None, amount="100.00", currency="EUR")
    created = await api.post("nrc", made)
    assert created.status_code == 201, created.text
    as_if_another_worker_wrote(app, created.json()["stream"])
    before = await api.count()

    pledge_id = made["data"]["pledge_id"]
    batch = [
        ev("DisbursementRecorded", pledge_id=pledge_id, amount="10.00", currency="EUR"),
        ev("PledgeMade", pledge_id=pledge_id, site_id=None, amount="5.00", currency="EUR"),
    ]
    problem = assert_problem(await api.post("nrc", batch), 422)

    assert problem["type"].endswith("/rules/pledge-already-made"), problem
    assert await api.count() == before


async def test_a_retry_through_another_worker_returns_the_original_receipt(
    api: Api, app: Litestar
) -> None:
    await api.setup_world()
    event = ev("ServiceDelivered", id="0b9f6a3e-2c1d-4e5f-8a7b-1c2d3e4f5a6b")
    created = await api.post("nrc", event)
    assert created.status_code == 201, created.text
    as_if_another_worker_wrote(app, created.json()["stream"])

    retried = await api.post("nrc", event)

    assert retried.status_code == 200, retried.text
    assert retried.json() == created.json()


async def test_a_retry_in_a_batch_with_a_new_event_returns_its_original_receipt(
    api: Api, app: Litestar
) -> None:
    """The first try presumes every event new; the store finds the retried one and the
    post is answered the careful way: the original receipt, the new event appended."""
    await api.setup_world()
    retried = ev("ServiceDelivered", id="5d1c7e0a-9b8f-4a6e-8d3c-2b1a0f9e8d7c")
    created = await api.post("nrc", retried)
    assert created.status_code == 201, created.text
    as_if_another_worker_wrote(app, created.json()["stream"])
    before = await api.count()

    answer = await api.post("nrc", [retried, ev("ServiceDelivered")])

    assert answer.status_code == 201, answer.text
    original, new = answer.json()
    assert original == created.json()
    assert new["position"] == created.json()["position"] + 1
    assert await api.count() == before + 1


async def test_a_retry_is_answered_even_when_its_rule_no_longer_holds(api: Api) -> None:
    """Accepted, then the site closed: the retry still gets its receipt, not a 422."""
    await api.setup_world()
    event = ev("ServiceDelivered", id="7e6d5c4b-3a29-4817-9f6e-5d4c3b2a1908")
    created = await api.post("nrc", event)
    assert created.status_code == 201, created.text
    closed = await api.post("admin", ev("SiteClosed", site_id="gol-tappeh"))
    assert closed.status_code == 201, closed.text
    before = await api.count()

    retried = await api.post("nrc", event)

    assert retried.status_code == 200, retried.text
    assert retried.json() == created.json()
    assert await api.count() == before


async def test_a_retried_event_is_not_decided_again_for_the_events_after_it(
    api: Api, app: Litestar
) -> None:
    """The pledge was made, then cancelled. Retried in a batch, before a delivery that
    names it, it must not count as just made: the delivery is refused, as it would be
    on its own, and nothing is appended."""
    await api.setup_world()
    made = ev("PledgeMade", id="3f2e1d0c-b9a8-4776-8554-4433221100ff")
    created = await api.post("nrc", made)
    assert created.status_code == 201, created.text
    pledge_id = made["data"]["pledge_id"]
    cancelled = await api.post("nrc", ev("PledgeCancelled", pledge_id=pledge_id))
    assert cancelled.status_code == 201, cancelled.text
    as_if_another_worker_wrote(app, created.json()["stream"])
    before = await api.count()

    answer = await api.post("nrc", [made, ev("ServiceDelivered", pledge_id=pledge_id)])

    problem = assert_problem(answer, 422)
    assert problem["type"].endswith("/rules/pledge-cancelled"), problem
    assert await api.count() == before
