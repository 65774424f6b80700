"""A soak: steady mixed load on one worker for HAMKARI_SOAK_SECONDS (60 in CI; `make
soak` runs ten minutes). The worker's memory stays flat once warm and latency does not
creep up."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path

import pytest

from tests.faults.harness import (
    Load,
    Server,
    assert_nothing_acknowledged_lost,
    issue_tokens,
    rss_bytes,
    set_up_world,
)

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("HAMKARI_SOAK_SECONDS", "60"))
MiB = 2**20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@pytest.mark.timeout(SECONDS + 240)
async def test_memory_flat_and_latency_stable_under_steady_load(
    database_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    tokens = await issue_tokens(database_url)
    # a small aggregate cache, so that its bound is reached early in the soak: what is
    # left to grow after that is a leak
    server = Server(
        {**cli_env, "HAMKARI_AGGREGATE_CACHE": "500"}, "--workers", "1", log_dir=tmp_path
    )
    server.start()
    try:
        [worker] = server.workers()
        await set_up_world(server.url, tokens)
        load = Load(server.url, tokens, writers=8, readers=4, pause=0.05)
        load.start()
        memory: list[tuple[float, int]] = []
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < SECONDS:
            memory.append((elapsed, rss_bytes(worker)))
            await asyncio.sleep(1.0)  # one memory sample a second: the soak's pace
        tally = await load.stop()
        await assert_nothing_acknowledged_lost(database_url, tally.acknowledged)
    finally:
        await asyncio.to_thread(server.stop)

    assert not tally.unexpected, tally.unexpected[:5]
    assert set(tally.statuses) <= {200, 201}, tally.statuses
    # warm-up: the first quarter (imports, caches, pool, PostgreSQL's buffers)
    warm = [rss for when, rss in memory if when >= SECONDS / 4]
    third = len(warm) // 3
    early, late = statistics.median(warm[:third]), statistics.median(warm[-third:])
    report = (
        f"{len(tally.acknowledged)} events in {SECONDS:.0f} s; rss {early / MiB:.1f} -> "
        f"{late / MiB:.1f} MiB"
    )
    assert late - early < max(16 * MiB, 0.15 * early), "memory grows: " + report

    def window(method: str, lo: float, hi: float) -> list[float]:
        return [
            s
            for when, m, s in tally.latencies
            if m == method and lo * SECONDS <= when < hi * SECONDS
        ]

    # posts: reads answer with more rows as the log grows (a partner's record lists
    # every delivery), so only their figures are printed
    trend = {}
    for method in ("GET", "POST"):
        first, last = window(method, 0.25, 0.5), window(method, 0.75, 1.0)
        p50 = (percentile(first, 0.5), percentile(last, 0.5))
        p95 = (percentile(first, 0.95), percentile(last, 0.95))
        trend[method] = (p50, p95)
        report += f"; {method} p50 {p50[0] * 1000:.1f} -> {p50[1] * 1000:.1f} ms"
        report += f", p95 {p95[0] * 1000:.1f} -> {p95[1] * 1000:.1f} ms"
    print(report)
    # a shared machine is noisy: a trend of doubling, not jitter, is the failure
    (p50_early, p50_late), (p95_early, p95_late) = trend["POST"]
    assert p50_late < 2 * p50_early + 0.010, "latency creeps up: " + report
    assert p95_late < 2 * p95_early + 0.025, "latency creeps up: " + report
