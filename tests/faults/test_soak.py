"""A soak: steady mixed load on one worker for HAMKARI_SOAK_SECONDS (60 in CI; `make
soak` runs ten minutes). The worker's memory stays flat once warm, and latency stays
flat as the log grows: p95 at the end within 1.3x of p95 after warm-up, for posts and
for reads (docs/benchmarks.md, "Issue 19: flat latency")."""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
from pathlib import Path

import pytest

from tests.builders import PERIOD_START
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
# what the readers read: reports whose answer stays the same size while the load
# writes. A partner's record over all time lists every challenge the partner reported,
# an answer that grows with the log by design: read for the month of the load's
# deliveries (challenges are dated the day they are told), it runs every one of the
# record's queries with an answer that does not grow. A reader of a growing answer
# would measure the answer's size, not a drift.
MONTH = PERIOD_START[:7]
READS = (
    "/v1/reports/who-what-where",
    "/v1/reports/deliveries?group_by=partner,site,sector,month",
    "/v1/reports/pledges",
    "/v1/reports/commitments",
    f"/v1/reports/partners/nrc?from={MONTH}&to={MONTH}",
)
DRIFT = 1.3  # p95 at the end / p95 after warm-up, at most
# a window's p95 is the median of its parts' p95s: a drift slows every part, while a
# burst of the shared machine's other work (a few seconds) slows one
PARTS = 3
FEWEST = 100  # requests of one kind in each part: below that a p95 says little


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def windows(seconds: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The first and the last window after warm-up, in seconds into the load: a soak of
    ten minutes compares its second minute with its last; a short one the first and
    last third of what follows its first quarter (a minute's soak: 15-30 s and 45-60 s,
    some 2,500 posts and 1,200 reads in each)."""
    warm = min(60.0, seconds / 4)
    width = min(60.0, (seconds - warm) / 3)
    return (warm, warm + width), (seconds - width, seconds)


def p95_of(samples: list[tuple[float, float]], lo: float, hi: float) -> tuple[float, float, int]:
    """(p50, the median of the parts' p95s, the fewest requests in a part) of the
    (when, seconds) samples in [lo, hi)."""
    width = (hi - lo) / PARTS
    parts = [
        [took for when, took in samples if lo + i * width <= when < lo + (i + 1) * width]
        for i in range(PARTS)
    ]
    every = [took for part in parts for took in part]
    fewest = min(len(part) for part in parts)
    if fewest == 0:
        return float("nan"), float("nan"), 0
    return (
        percentile(every, 0.5),
        statistics.median(percentile(part, 0.95) for part in parts),
        fewest,
    )


@pytest.mark.timeout(SECONDS + 240)
async def test_memory_and_latency_stay_flat_under_steady_load(
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
        load = Load(server.url, tokens, writers=8, readers=4, pause=0.05, reads=READS)
        # the clients share this process: what it holds from before the load is not
        # walked again by its collector (full collections of this process took 50-100 ms,
        # added to every answer in flight)
        gc.collect()
        gc.freeze()
        load.start()
        memory: list[tuple[float, int]] = []
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < SECONDS:
            memory.append((elapsed, rss_bytes(worker)))
            await asyncio.sleep(1.0)  # one memory sample a second: the soak's pace
        tally = await load.stop()
        gc.unfreeze()
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

    first, last = windows(SECONDS)
    report += f"; seconds {first[0]:.0f}-{first[1]:.0f} -> {last[0]:.0f}-{last[1]:.0f}"
    trend, series = {}, ""
    width = first[1] - first[0]
    for method in ("GET", "POST"):
        samples = [(when, took) for when, m, took in tally.latencies if m == method]
        (p50_a, p95_a, n_a), (p50_b, p95_b, n_b) = p95_of(samples, *first), p95_of(samples, *last)
        assert min(n_a, n_b) >= FEWEST, f"too few {method}s to judge: {n_a}, {n_b} in a part"
        trend[method] = p95_a, p95_b
        report += (
            f"; {method} p50 {p50_a * 1000:.1f} -> {p50_b * 1000:.1f} ms,"
            f" p95 {p95_a * 1000:.1f} -> {p95_b * 1000:.1f} ms"
        )
        # every window after warm-up, so that a burst can be told from a trend
        steps = [first[0] + i * width for i in range(round((SECONDS - first[0]) / width))]
        series += f"\n  {method} p95 every {width:.0f} s, ms:" + "".join(
            f" {p95_of(samples, lo, lo + width)[1] * 1000:.1f}" for lo in steps
        )
    print(report + series)
    for method, (before, after) in trend.items():
        assert after <= DRIFT * before, f"{method} latency creeps up: " + report
