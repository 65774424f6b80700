"""Rebuilding from position 0 into fresh tables, swapped in while reads go on: the
result is the live projection, table for table."""

from __future__ import annotations

import asyncpg
import msgspec
import pytest

from server.eventstore import EventStore
from server.projections.catalog import PROJECTIONS
from server.projections.deliveries import Filters, deliveries_report
from server.projections.host import ProjectionHost
from server.projections.rebuild import RebuildRunning, rebuild
from server.projections.tracking import lock_key
from tests import builders as b
from tests.projections.helpers import (
    append,
    catch_up,
    new_event,
    positions,
    reader,
    table_contents,
)
from tests.projections.scenario import STEPS


async def index_names(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'readmodel' ORDER BY 1"
    )
    return [r["indexname"] for r in rows]


async def test_a_rebuild_gives_the_tables_the_live_runner_built(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    for step in STEPS:
        await append(store, step)
        await catch_up(pool, batch_size=3)
    live, live_positions, indexes = (
        await table_contents(pool),
        await positions(pool),
        await index_names(pool),
    )
    assert live["deliveries"] and live["delivery_cells"] and live["pledges"]
    assert live["disbursements"]

    rebuilt_at = await rebuild(pool, PROJECTIONS.values())

    assert rebuilt_at == live_positions
    assert await table_contents(pool) == live
    assert await index_names(pool) == indexes  # the fresh tables took the old names
    generations = await pool.fetch("SELECT generation, rebuilt_at FROM projections")
    assert all(r["generation"] == 1 and r["rebuilt_at"] is not None for r in generations)
    # and again: the second swap finds its names free as well
    await rebuild(pool, [PROJECTIONS["deliveries"]])
    assert await table_contents(pool) == live
    assert await index_names(pool) == indexes


async def test_reads_go_on_and_writes_are_kept_while_a_rebuild_swaps_tables(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    await append(store, STEPS[0])
    await append(
        store,
        [("ServiceDelivered", b.service_delivered(site_id="gol-tappeh")) for _ in range(3000)],
    )
    host = ProjectionHost(pool, lambda: asyncpg.connect(database_url), poll_interval=0.05)
    await host.start()
    read = reader(pool)
    totals = Filters()

    async def total() -> tuple[int, int]:
        answer = await read.read(
            "deliveries", lambda conn, names: deliveries_report(conn, names, [], totals)
        )
        return answer.as_of_position, answer.body[0]["deliveries"]

    try:
        head = await store.head()
        await read.wait_for(("deliveries",), head)
        task = host.request_rebuild(["deliveries"])
        seen: list[tuple[int, int]] = []
        appended = 0
        while not task.done():
            seen.append(await total())
            await append(store, [("ServiceDelivered", b.service_delivered())])
            appended += 1
        await task
        await append(store, [("ServiceDelivered", b.service_delivered())])
        head = await store.head()
        await read.wait_for(("deliveries",), head)
        final = await total()
    finally:
        await host.close()
    assert seen, "no read happened during the rebuild"
    # every answer's count matches its position: one delivery per event after the first
    first_delivery = len(STEPS[0]) + 1
    for as_of, count in [*seen, final]:
        assert count == as_of - first_delivery + 1
    assert final == (head, 3000 + appended + 1)


async def test_a_second_rebuild_of_the_same_projection_is_refused(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", lock_key("pledges", "rebuild"))
        try:
            with pytest.raises(RebuildRunning):
                await rebuild(pool, [PROJECTIONS["pledges"]])
        finally:
            await conn.execute("SELECT pg_advisory_unlock_all()")
    assert await rebuild(pool, [PROJECTIONS["pledges"]]) == {"pledges": 0}


async def test_a_rebuild_that_cannot_fold_keeps_the_live_tables(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await append(store, STEPS[1])
    await catch_up(pool)
    before = await table_contents(pool)
    # an event this code cannot read: a schema version no decoder knows
    unreadable = new_event("ServiceDelivered", b.service_delivered())
    await store.append([msgspec.structs.replace(unreadable, schema_version=9)])
    with pytest.raises(Exception, match="schema version 9"):
        await rebuild(pool, [PROJECTIONS["deliveries"]])
    assert await table_contents(pool) == before
    row = await pool.fetchrow("SELECT * FROM projections WHERE name = 'deliveries'")
    assert "schema version 9" in row["rebuild_error"] and row["rebuild_started_at"] is None
    fresh = await pool.fetchval("SELECT to_regclass('readmodel.deliveries__next') IS NULL")
    assert fresh
