"""Ordering without gaps under concurrent writers, in one process and across several,
and no lost or partial batch when a writer process is killed."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import msgspec
import pytest

from server.eventstore import EventStore, VersionConflict
from tests.eventstore.helpers import new_event

ROOT = Path(__file__).resolve().parents[2]


async def assert_gap_free(pool: asyncpg.Pool, expected: int) -> None:
    row = await pool.fetchrow(
        "SELECT count(*) AS n, min(position) AS lo, max(position) AS hi,"
        " count(DISTINCT event_id) AS ids FROM events"
    )
    assert (row["n"], row["lo"], row["hi"], row["ids"]) == (expected, 1, expected, expected)
    assert await pool.fetchval("SELECT last_position FROM log_head") == expected


async def test_64_concurrent_writers_get_positions_1_to_5000(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    per_writer = 5000 // 64
    extra = 5000 - per_writer * 64

    async def writer(n: int) -> list[tuple[int, object]]:
        count = per_writer + (1 if n < extra else 0)
        out = []
        for i in range(count):
            event = new_event(f"w{n}", data={"writer": n, "i": i})
            [receipt] = await store.append([event])
            assert receipt.id == event.id
            out.append((receipt.position, receipt))
        return out

    results = await asyncio.gather(*(writer(n) for n in range(64)))
    receipts = {pos: r for out in results for pos, r in out}
    assert sorted(receipts) == list(range(1, 5001))
    await assert_gap_free(pool, 5000)
    logged = await store.read_log(0, 5000)
    for stored in logged:
        receipt = receipts[stored.position]
        assert (receipt.id, receipt.stream, receipt.version, receipt.hash) == (
            stored.id,
            stored.stream,
            stored.version,
            stored.leaf_hash,
        )


async def test_exactly_one_winner_per_expected_version(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    async def contender(n: int) -> int:
        wins = 0
        for version in range(20):
            try:
                await store.append([new_event("contended", expected_version=version)])
                wins += 1
            except VersionConflict:
                pass
        return wins

    wins = await asyncio.gather(*(contender(n) for n in range(16)))
    assert sum(wins) == 20
    versions = await pool.fetch(
        "SELECT version FROM events WHERE stream = 'contended' ORDER BY version"
    )
    assert [r["version"] for r in versions] == list(range(1, 21))


def spawn_writer(
    dsn: str, tag: str, *, batches: int, size: int, wait: bool = False
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.eventstore.append_worker",
            dsn,
            "--tag",
            tag,
            "--batches",
            str(batches),
            "--size",
            str(size),
            *(["--wait"] if wait else []),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
async def test_two_processes_appending_at_once_stay_gap_free(
    database_url: str, pool: asyncpg.Pool
) -> None:
    writers = [
        spawn_writer(database_url, tag, batches=600, size=5, wait=True) for tag in ("p1", "p2")
    ]
    for w in writers:
        assert w.stdout is not None
        assert (await asyncio.to_thread(w.stdout.readline)).strip() == "ready"
    outputs = await asyncio.gather(
        *(asyncio.to_thread(w.communicate, "go\n", timeout=120) for w in writers)
    )
    assert [w.returncode for w in writers] == [0, 0]
    acked = [line.split() for out, _ in outputs for line in out.splitlines()]
    assert len(acked) == 6000
    await assert_gap_free(pool, 6000)
    # both processes really interleaved: positions of each are not one contiguous run
    by_tag = collections.defaultdict(list)
    for _, batch, position, _id in acked:
        by_tag[batch.split("-")[0]].append(int(position))
    assert all(max(p) - min(p) + 1 > len(p) for p in by_tag.values())


@pytest.mark.slow
async def test_a_writer_killed_mid_batch_loses_no_acknowledged_event(
    database_url: str, pool: asyncpg.Pool
) -> None:
    writer = spawn_writer(database_url, "k", batches=100_000, size=20)
    assert writer.stdout is not None
    acked: list[list[str]] = []
    deadline = time.monotonic() + 60
    # kill once a good number of batches are acknowledged, mid-stream
    while len(acked) < 2000 and time.monotonic() < deadline:
        line = await asyncio.to_thread(writer.stdout.readline)
        if not line:
            break
        acked.append(line.split())
    os.kill(writer.pid, signal.SIGKILL)
    # the same buffered reader as above, so nothing it already holds is dropped
    rest = await asyncio.to_thread(writer.stdout.read)
    await asyncio.to_thread(writer.wait)
    # a line cut short by the kill was never fully acknowledged to anyone
    acked.extend(line.split() for line in rest.splitlines(keepends=True) if line.endswith("\n"))
    assert writer.returncode == -signal.SIGKILL
    assert len(acked) >= 2000

    rows = await pool.fetch("SELECT position, event_id, entry FROM events ORDER BY position")
    stored = {str(r["event_id"]): r["position"] for r in rows}
    for _, _batch, position, event_id in acked:
        assert stored.get(event_id) == int(position)
    await assert_gap_free(pool, len(rows))
    sizes = collections.Counter(msgspec.json.decode(r["entry"])["data"]["batch"] for r in rows)
    assert set(sizes.values()) == {20}, "a batch was partially stored"
