"""A caught-up runner steps at most every `step_interval` seconds: a stream of small
commits, each of which wakes it, is applied in a few batches rather than one
transaction per commit; an event after a quiet spell is applied at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from server.eventstore import EventStore
from server.projections.deliveries import DELIVERIES
from server.projections.runner import ProjectionRunner, follow
from tests import builders as b
from tests.projections.helpers import append, positions


class Following:
    """One runner following the log, counting the steps that applied something."""

    def __init__(self, pool: asyncpg.Pool, step_interval: float) -> None:
        self.runner = ProjectionRunner(pool, DELIVERIES, snapshot_every=None)
        self.pool = pool
        self.batches: list[int] = []
        self.woken = asyncio.Event()
        self.done = False
        real_step = self.runner.step

        async def counting_step() -> tuple[int, bool]:
            applied, more = await real_step()
            if applied:
                self.batches.append(applied)
            return applied, more

        self.runner.step = counting_step  # type: ignore[method-assign]
        self.task = asyncio.create_task(
            follow(
                self.runner,
                self.woken,
                poll_interval=30,  # only the notifications of this test wake it
                still_ours=lambda: not self.done,
                step_interval=step_interval,
            )
        )

    async def commit_one(self, store: EventStore) -> int:
        """Append one delivery and wake the runner, as the host's NOTIFY does."""
        [receipt] = await append(store, [("ServiceDelivered", b.service_delivered())])
        self.woken.set()
        return receipt.position

    async def applied(self, position: int, within: float = 10.0) -> float:
        """Seconds until the projection reached `position`."""
        started = time.monotonic()
        while (await positions(self.pool))["deliveries"] < position:
            assert time.monotonic() - started < within, f"{position} not applied"
            await asyncio.sleep(0.01)
        return time.monotonic() - started

    async def stop(self) -> None:
        self.done = True
        self.woken.set()
        await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def following(pool: asyncpg.Pool) -> AsyncIterator[Following]:
    started = Following(pool, step_interval=1.0)
    try:
        yield started
    finally:
        await started.stop()


async def test_a_stream_of_small_commits_is_applied_in_a_few_batches(
    following: Following, store: EventStore
) -> None:
    last = 0
    for _ in range(12):  # twelve commits over about 0.6 s, each one a wake-up
        last = await following.commit_one(store)
        await asyncio.sleep(0.05)
    await following.applied(last)

    assert sum(following.batches) == 12
    # the first at once, the rest when the interval allows: not twelve transactions
    assert len(following.batches) <= 3, following.batches


async def test_an_event_after_a_quiet_spell_is_applied_at_once(
    following: Following, store: EventStore
) -> None:
    await following.applied(await following.commit_one(store))
    await asyncio.sleep(1.5)  # longer than the interval: the runner is free to step

    seconds = await following.applied(await following.commit_one(store))

    assert seconds < 0.5, f"applied after {seconds:.2f} s, as if it had waited the interval"


async def test_a_runner_told_to_stop_while_it_waits_out_the_interval_stops_at_once(
    following: Following, store: EventStore
) -> None:
    await following.applied(await following.commit_one(store))
    await following.commit_one(store)  # it wakes, and waits out the rest of the interval
    await asyncio.sleep(0.1)

    started = time.monotonic()
    await following.stop()  # (its poll interval is 30 s)

    assert time.monotonic() - started < 2.0
