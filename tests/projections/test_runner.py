"""The runner under faults: killed mid-batch and restarted, an exception injected in
the middle of a write, an event it cannot read, a lock holder that dies. No event is
counted twice or missed, and none is silently skipped."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec
import pytest

from server.eventstore import EventStore
from server.projections import runner as runner_module
from server.projections.catalog import PROJECTIONS
from server.projections.deliveries import DELIVERIES
from server.projections.host import ProjectionHost
from server.projections.rebuild import rebuild
from server.projections.runner import ProjectionRunner, ProjectionStopped, follow
from server.projections.tracking import statuses
from tests import builders as b
from tests.projections.helpers import append, catch_up, new_event, positions, table_contents
from tests.projections.scenario import EVENTS, STEPS
from tests.waiting import until

DESCRIPTIONS = {name: p.description for name, p in PROJECTIONS.items()}


async def expected_tables(pool: asyncpg.Pool) -> dict[str, Any]:
    """What the tables must hold: a rebuild from the log (a single, clean fold)."""
    await rebuild(pool, PROJECTIONS.values())
    return await table_contents(pool)


async def test_a_runner_cancelled_mid_transaction_leaves_nothing_half_done(
    store: EventStore, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    await append(store, EVENTS)
    inside = asyncio.Event()
    real_advance = runner_module.advance

    async def stuck(*args: Any) -> None:
        inside.set()  # rows are written, the position is not yet
        await asyncio.sleep(3600)  # stuck there until cancelled: the case under test

    monkeypatch.setattr(runner_module, "advance", stuck)
    runner = ProjectionRunner(pool, DELIVERIES, batch_size=4)
    task = asyncio.create_task(runner.catch_up())
    await asyncio.wait_for(inside.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await positions(pool))["deliveries"] == 0
    assert (await table_contents(pool))["deliveries"] == []

    monkeypatch.setattr(runner_module, "advance", real_advance)
    await catch_up(pool, batch_size=4)  # a new process, from the stored position
    live = await table_contents(pool)
    assert live == await expected_tables(pool)


async def test_a_runner_whose_connection_is_killed_mid_batch_redoes_it_once(
    store: EventStore, pool: asyncpg.Pool, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await append(store, EVENTS)
    real_advance = runner_module.advance
    calls = 0
    killed = asyncio.Event()

    async def killed_before_commit(conn: Any, name: str, position: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # two batches are committed; the third dies half-written
            owner = await asyncpg.connect(database_url)
            try:
                await owner.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
            finally:
                await owner.close()
            killed.set()
        await real_advance(conn, name, position)

    monkeypatch.setattr(runner_module, "advance", killed_before_commit)
    runner = ProjectionRunner(pool, DELIVERIES, batch_size=2)
    woken = asyncio.Event()
    done = False
    task = asyncio.create_task(
        follow(runner, woken, poll_interval=0.05, still_ours=lambda: not done)
    )
    head = await store.head()

    async def deliveries_at_head() -> bool:
        return (await positions(pool))["deliveries"] == head

    await until(deliveries_at_head, 10, what="deliveries at the head")
    done = True
    woken.set()
    await asyncio.wait_for(task, 10)
    assert killed.is_set() and calls > 3
    await catch_up(pool)  # the other projections
    assert await table_contents(pool) == await expected_tables(pool)


async def test_an_exception_injected_mid_write_rolls_the_batch_back(
    store: EventStore, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    await append(store, EVENTS)
    real_write = runner_module.write_changes

    async def half_then_fail(*args: Any) -> int:
        await real_write(*args)
        raise RuntimeError("injected")

    monkeypatch.setattr(runner_module, "write_changes", half_then_fail)
    runner = ProjectionRunner(pool, DELIVERIES, batch_size=3)
    with pytest.raises(RuntimeError, match="injected"):
        await runner.catch_up()
    assert (await positions(pool))["deliveries"] == 0
    assert (await table_contents(pool))["delivery_cells"] == []
    monkeypatch.setattr(runner_module, "write_changes", real_write)
    await catch_up(pool, batch_size=3)
    assert await table_contents(pool) == await expected_tables(pool)


async def test_an_unreadable_event_stops_its_projection_where_it_is(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await append(store, STEPS[0])
    [before] = await append(store, [("ServiceDelivered", b.service_delivered())])
    unreadable = new_event("ServiceDelivered", b.service_delivered())
    [bad] = await store.append([msgspec.structs.replace(unreadable, schema_version=9)])
    await append(store, [("ServiceDelivered", b.service_delivered())])

    runner = ProjectionRunner(pool, DELIVERIES)
    with pytest.raises(ProjectionStopped) as stopped:
        await runner.catch_up()
    assert stopped.value.position == bad.position
    # the events before it are in; the one after it is not: nothing is skipped
    assert (await positions(pool))["deliveries"] == bad.position - 1 == before.position
    assert len((await table_contents(pool))["deliveries"]) == 1
    status = {s.name: s for s in await statuses(pool, DESCRIPTIONS)}["deliveries"]
    assert status.error_position == bad.position
    assert status.error is not None and "schema version 9" in status.error
    assert status.lag_events == 2
    # another runner (a restart) stops at the same place again
    with pytest.raises(ProjectionStopped):
        await ProjectionRunner(pool, DELIVERIES).catch_up()
    assert (await positions(pool))["deliveries"] == before.position
    # the other projections are not held up
    directory = ProjectionRunner(pool, PROJECTIONS["directory"])
    await directory.catch_up()
    assert (await positions(pool))["directory"] == await store.head()


async def test_a_fold_that_fails_commits_the_events_before_it_and_says_which(
    store: EventStore, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    await append(store, STEPS[1])
    receipts = await append(store, STEPS[2])

    def broken(state: Any, event: Any) -> None:
        raise ValueError("no such field")

    monkeypatch.setitem(DELIVERIES.handlers, "DeliveryRetracted", broken)  # type: ignore[arg-type]
    runner = ProjectionRunner(pool, DELIVERIES, batch_size=100)
    with pytest.raises(ProjectionStopped, match="no such field"):
        await runner.catch_up()
    retraction = receipts[-1].position
    assert (await positions(pool))["deliveries"] == retraction - 1


async def test_one_process_runs_each_projection_and_another_takes_over_when_it_dies(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    cut_off = False

    async def connect() -> asyncpg.Connection:
        if cut_off:
            raise OSError("this process is gone")
        return await asyncpg.connect(database_url)

    def host(connect: Any) -> ProjectionHost:
        return ProjectionHost(pool, connect, poll_interval=0.05, lock_retry=0.1)

    first = host(connect)
    second = host(lambda: asyncpg.connect(database_url))
    await first.start()
    await until(lambda: first.held == set(PROJECTIONS), 10, what="the first host holds all")
    await second.start()
    try:
        await append(store, STEPS[0] + STEPS[1])
        head = await store.head()
        await until(lambda: _at(pool, head), 10, what="the first host applied the first steps")
        assert first.held == set(PROJECTIONS) and second.held == set()
        # the first host's lock connection dies, and it cannot get another one
        assert first._conn is not None
        cut_off = True
        owner = await asyncpg.connect(database_url)
        try:
            await owner.execute("SELECT pg_terminate_backend($1)", first._conn.get_server_pid())
        finally:
            await owner.close()
        await until(lambda: second.held == set(PROJECTIONS), 10, what="the second took over")
        assert second.held == set(PROJECTIONS) and first.held == set()
        await append(store, STEPS[2] + STEPS[3] + STEPS[4])
        head = await store.head()
        await until(lambda: _at(pool, head), 10, what="every projection at the head")
        running = {s.name: s.running for s in await statuses(pool, DESCRIPTIONS)}
        assert all(running.values())
    finally:
        await first.close()
        await second.close()
    assert set((await positions(pool)).values()) == {head}
    assert await table_contents(pool) == await expected_tables(pool)


async def test_a_batch_the_database_refuses_is_retried_event_by_event_to_name_the_culprit(
    store: EventStore, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    await append(store, STEPS[0])
    receipts = await append(store, STEPS[1])
    culprit = receipts[3]  # the fourth delivery cannot be written
    real_write = runner_module.write_changes

    async def refuse_one(conn: Any, projection: Any, names: Any, before: Any, after: Any) -> int:
        if any(row.delivered_position == culprit.position for row in after["deliveries"].values()):
            raise asyncpg.NumericValueOutOfRangeError("value out of range")
        return await real_write(conn, projection, names, before, after)

    monkeypatch.setattr(runner_module, "write_changes", refuse_one)
    runner = ProjectionRunner(pool, DELIVERIES, batch_size=100)
    with pytest.raises(ProjectionStopped) as stopped:
        await asyncio.wait_for(
            follow(runner, asyncio.Event(), poll_interval=0.05, still_ours=lambda: True), 10
        )
    assert stopped.value.position == culprit.position
    assert (await positions(pool))["deliveries"] == culprit.position - 1
    assert len((await table_contents(pool))["deliveries"]) == 3
    status = {s.name: s for s in await statuses(pool, DESCRIPTIONS)}["deliveries"]
    assert status.error is not None and "out of range" in status.error


async def _at(pool: asyncpg.Pool, head: int) -> bool:
    """Every projection has applied the log up to `head`."""
    return set((await positions(pool)).values()) == {head}
