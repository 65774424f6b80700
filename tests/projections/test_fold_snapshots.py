"""Fold snapshots: `?at_position=N` folds from the newest usable snapshot at or below N.
From a snapshot, from 0, and live at N: the same answer; a snapshot of another
generation or version is never used; below the oldest one, the fold starts at 0."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from server.eventstore import EventStore
from server.projections import catalog, snapshots
from server.projections.catalog import PROJECTIONS, projections_named
from server.projections.history import at_position, fold_log
from server.projections.rebuild import rebuild
from server.projections.snapshot_keeper import SnapshotKeeper, bring_up_to_date
from tests.projections.helpers import append, catch_up, reader
from tests.projections.scenario import STEPS
from tests.projections.test_time_travel import REPORTS, everything


async def said_along_the_way(store: EventStore, pool: asyncpg.Pool) -> dict[int, dict[str, Any]]:
    """Append the scenario an event at a time; what every report said at each position."""
    read = reader(pool)
    said: dict[int, dict[str, Any]] = {}
    for step in STEPS:
        for spec in step:
            receipts = await append(store, [spec])
            await catch_up(pool, batch_size=2)
            said[receipts[-1].position] = await everything(read)
    return said


async def take_all(pool: asyncpg.Pool, every: int, keep: int = 100) -> dict[str, list[int]]:
    for projection in PROJECTIONS.values():
        await bring_up_to_date(pool, projection, every=every, keep=keep)
    return {name: await snapshots.positions(pool, p) for name, p in PROJECTIONS.items()}


async def from_zero(pool: asyncpg.Pool, position: int) -> dict[str, Any]:
    """Every report at `position`, folded from 0 (no snapshot asked for)."""
    answers = {}
    for name, (report, query) in REPORTS.items():
        chosen = projections_named(catalog.REPORTS[report])
        answer = await at_position(pool, chosen, position, query, from_snapshots=False)
        answers[name] = (position, answer)
    return answers


async def test_an_answer_from_a_snapshot_is_the_answer_from_zero_and_what_was_said(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    said = await said_along_the_way(store, pool)
    head = max(said)
    taken = await take_all(pool, every=4)
    assert all(found == list(range(4, head + 1, 4)) for found in taken.values()), taken

    async with pool.acquire() as conn:
        for projection in PROJECTIONS.values():
            for position in taken[projection.name]:
                # the stored state is the folded state, row for row
                loaded = await snapshots.load(conn, projection, position)
                folded = await fold_log(conn, [projection], position)
                assert loaded == (position, folded[projection.name]), position
    read = reader(pool)
    for position, live in said.items():
        assert await everything(read, at=position) == live, f"at_position={position}"
        assert await from_zero(pool, position) == live, f"from 0, at_position={position}"


async def test_a_snapshot_of_an_older_generation_or_version_is_not_used(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    said = await said_along_the_way(store, pool)
    at = max(p for p in said if p >= 10)
    deliveries = PROJECTIONS["deliveries"]

    async def poison(version: str, generation: int) -> None:
        # an empty "state" at position 10: used, it would drop every delivery before it
        await pool.execute(
            "DELETE FROM projection_snapshots WHERE name = 'deliveries' AND position <= 10"
        )
        async with pool.acquire() as conn:
            await snapshots.save(conn, deliveries, generation, 10, deliveries.empty())
        if version != snapshots.version(deliveries):
            await pool.execute(
                "INSERT INTO projection_snapshots"
                " (name, version, generation, position, table_name, part, row_count, rows)"
                " SELECT name, $1, generation, position, table_name, part, row_count, rows"
                " FROM projection_snapshots WHERE name = 'deliveries' AND position = 10",
                version,
            )
            await pool.execute(
                "DELETE FROM projection_snapshots"
                " WHERE name = 'deliveries' AND position = 10 AND version <> $1",
                version,
            )

    read = reader(pool)
    await poison(snapshots.version(deliveries), 0)
    assert await everything(read, at=at) != said[at]  # the poison would show, if used

    await poison("some older code", 0)
    assert await everything(read, at=at) == said[at]

    await poison(snapshots.version(deliveries), 0)
    await rebuild(pool, PROJECTIONS.values())  # generation 0 -> 1
    assert await snapshots.positions(pool, deliveries) == []
    assert await everything(read, at=at) == said[at]

    # the next round deletes what cannot be used and takes them again, at generation 1
    taken = await take_all(pool, every=5)
    assert taken["deliveries"] == list(range(5, max(said) + 1, 5))
    rows = await pool.fetch("SELECT DISTINCT version, generation FROM projection_snapshots")
    assert {tuple(r) for r in rows if r["version"] == "some older code"} == set()
    assert {r["generation"] for r in rows} == {1}
    assert await everything(read, at=at) == said[at]


async def test_below_the_oldest_snapshot_the_fold_starts_at_zero(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    said = await said_along_the_way(store, pool)
    head = max(said)
    taken = await take_all(pool, every=3, keep=2)
    newest = head // 3 * 3
    assert taken["deliveries"] == [newest - 3, newest]
    read = reader(pool)
    for position in (p for p in said if p < newest - 3):
        assert await everything(read, at=position) == said[position], position


async def test_the_keeper_takes_snapshots_as_the_runner_passes_their_positions(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    directory = PROJECTIONS["directory"]
    keeper = SnapshotKeeper(pool, directory, every=3, keep=5, recheck=3600)
    task = asyncio.create_task(keeper.run())
    try:
        for step in STEPS:
            receipts = await append(store, step)
            keeper.committed(receipts[0].position - 1, receipts[-1].position)
        head = receipts[-1].position
        wanted = list(range(3, head + 1, 3))[-5:]
        for _ in range(200):
            if await snapshots.positions(pool, directory) == wanted:
                break
            await asyncio.sleep(0.05)
        assert await snapshots.positions(pool, directory) == wanted
    finally:
        task.cancel()
