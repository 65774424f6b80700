"""Following the log live: woken by NOTIFY, covered by polling, in order, each once."""

from __future__ import annotations

import asyncio

import asyncpg

from server.eventstore import EventStore, LogFollower
from tests.eventstore.helpers import new_event


async def collect(follower: LogFollower, count: int) -> list[int]:
    seen: list[int] = []
    async for batch in follower.batches():
        seen.extend(e.position for e in batch)
        if len(seen) >= count:
            break
    return seen


async def test_follower_is_woken_by_notify_without_waiting_for_a_poll(
    store: EventStore, database_url: str
) -> None:
    await store.append([new_event("s") for _ in range(3)])
    # a poll interval far longer than the test: only NOTIFY can deliver in time
    follower = LogFollower(
        store, lambda: asyncpg.connect(database_url), after=1, batch_size=2, poll_interval=300
    )
    task = asyncio.create_task(collect(follower, 12))
    await asyncio.sleep(0.2)
    for _ in range(10):
        await store.append([new_event("s")])
    seen = await asyncio.wait_for(task, timeout=10)
    await follower.close()
    assert seen == list(range(2, 14))


async def test_follower_without_a_listener_still_catches_up_by_polling(
    store: EventStore,
) -> None:
    follower = LogFollower(store, None, poll_interval=0.05)
    task = asyncio.create_task(collect(follower, 5))
    for _ in range(5):
        await store.append([new_event("p")])
    assert await asyncio.wait_for(task, timeout=10) == [1, 2, 3, 4, 5]
    await follower.close()
