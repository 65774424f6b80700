"""Mixed load at 1,000,000 events against the same load on a small log: does latency
stay flat as the log grows (issue 19)?

Two logs of the plausible generated world (bench/generated_log.py), both built through
the real appender with the audit tree: the whole log of 1,000,000 events (three years)
and its first month alone (1/36 of it, at the same density). Their projections are
rebuilt and their fold snapshots taken before any load, so the projector starts caught
up. One `hamkari serve` on each, both running; then, in turn and twice each, the same
mixed load on one of them: posts of single ServiceDelivered events from 8 connections
and report reads from 4, each connection pausing 50 ms between an answer and its next
request (wrk with bench/mixed.lua; the soak's pace, below what the machine can do, so
that the figure is latency rather than a queue at saturation).

The reads give the same answer on both logs: the reports of the first month (which
both logs hold in full), the who-what-where over all time (a row a programme, the same
programmes) and a page of the log. A report whose answer grows with the log by design
(a partner's record over all time lists every challenge it reported) measures its
answer's size, not a drift: it is not in this mix."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from bench.audit import build_log
from bench.harness import Cluster, settings_for
from bench.http import prepare, require_wrk, served
from server.auth.tokens import issue
from server.database.pool import create_pool
from server.projections.catalog import PROJECTIONS
from server.projections.rebuild import rebuild
from server.projections.snapshot_keeper import bring_up_to_date

SCRIPT = Path(__file__).with_name("mixed.lua")
MONTH = "from=2023-01&to=2023-01"
READS = (
    "/v1/reports/who-what-where",
    f"/v1/reports/deliveries?group_by=partner,site,sector,month&{MONTH}",
    f"/v1/reports/pledges?{MONTH}",
    f"/v1/reports/commitments?{MONTH}",
    f"/v1/reports/partners/p07?{MONTH}",
    "/v1/events?after=0&limit=50",
)
POSTERS, READERS, PAUSE_MS = 8, 4, 50
ROUNDS = 2


@dataclass
class Side:
    """One wrk's figures: the posts or the reads of one round on one log."""

    requests: int
    seconds: float
    failed: int
    p50: float  # ms
    p95: float
    p99: float

    @property
    def rate(self) -> float:
        return (self.requests - self.failed) / self.seconds


def paced_wrk(url: str, token: str, mode: str, connections: int, seconds: int) -> Side:
    env = {
        **os.environ,
        "HAMKARI_TOKEN": token,
        "HAMKARI_MODE": mode,
        "HAMKARI_PAUSE_MS": str(PAUSE_MS),
        "HAMKARI_PATHS": "|".join(READS),
        "HAMKARI_RUN": uuid.uuid4().hex[:8],
    }
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    done = subprocess.run(
        [*command, "-s", str(SCRIPT), url], env=env, capture_output=True, text=True, check=True
    )
    result = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    requests, micros, status, errors, p50, p95, p99, _ = (int(x) for x in result.split()[1:])
    return Side(requests, micros / 1e6, status + errors, p50 / 1000, p95 / 1000, p99 / 1000)


def mixed(url: str, tokens: dict[str, str], seconds: int) -> tuple[Side, Side]:
    """Posts and reads at once for `seconds`: (posts, reads)."""
    with ThreadPoolExecutor(2) as threads:
        posts = threads.submit(paced_wrk, url, tokens["nrc"], "post", POSTERS, seconds)
        reads = threads.submit(paced_wrk, url, tokens["coordinator"], "read", READERS, seconds)
        return posts.result(), reads.result()


async def make_log(cluster: Cluster, size: int, world: int) -> tuple[str, float]:
    """A database holding the first `size` events of the generated log of `world`, its
    projections caught up and its fold snapshots taken; (DSN, seconds to make it)."""
    began = time.perf_counter()
    dsn = await cluster.fresh_database()
    await build_log(dsn, size, world)
    pool = await create_pool(dsn, settings_for(dsn), min_size=1, max_size=2)
    try:
        await rebuild(pool, PROJECTIONS.values())
        for projection in PROJECTIONS.values():
            await bring_up_to_date(pool, projection)
    finally:
        await pool.close()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM ANALYZE")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    return dsn, time.perf_counter() - began


async def tokens_for(dsn: str) -> dict[str, str]:
    tokens = await prepare(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        tokens["coordinator"] = await issue(conn, name="bench-coordinator", role="coordinator")
    finally:
        await conn.close()
    return tokens


def check_reads(url: str, token: str) -> list[int]:
    """Every read answers 200 (a 404 or 400 would be timed as if it were a report);
    the bytes of each answer."""
    sizes = []
    headers = {"Authorization": f"Bearer {token}"}
    for path in READS:
        answer = httpx.get(url + path, headers=headers, timeout=60)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:200]}")
        sizes.append(len(answer.content))
    return sizes


def measure(
    logs: dict[str, tuple[str, dict[str, str]]], seconds: int
) -> tuple[dict[str, list[tuple[Side, Side]]], dict[str, list[int]]]:
    """Both servers up; a warm-up on each, then ROUNDS rounds of the mixed load on each
    in turn (small, large, small, large: the machine's moments are shared)."""
    figures: dict[str, list[tuple[Side, Side]]] = {name: [] for name in logs}
    sizes: dict[str, list[int]] = {}
    (small, (dsn_s, tokens_s)), (large, (dsn_l, tokens_l)) = logs.items()
    with served(dsn_s, tokens_s) as url_s, served(dsn_l, tokens_l) as url_l:
        urls = {small: (url_s, tokens_s), large: (url_l, tokens_l)}
        for name, (url, tokens) in urls.items():
            sizes[name] = check_reads(url, tokens["coordinator"])
            mixed(url, tokens, max(3, seconds // 3))  # caches, plans, PostgreSQL's buffers
        for _round in range(ROUNDS):
            for name, (url, tokens) in urls.items():
                figures[name].append(mixed(url, tokens, seconds))
    return figures, sizes


def _line(label: str, sides: list[Side], unit: str) -> str:
    rate = statistics.mean(s.rate for s in sides)
    p50, p95, p99 = (statistics.mean(getattr(s, q) for s in sides) for q in ("p50", "p95", "p99"))
    failed = sum(s.failed for s in sides)
    text = (
        f"  {label:<44} {rate:>8,.0f} {unit}   p50 {p50:6.2f} ms   p95 {p95:6.2f} ms"
        f"   p99 {p99:6.2f} ms"
    )
    return text + (f"   ({failed:,} failed)" if failed else "")


async def run(cluster: Cluster, scale: float = 1.0) -> list[str]:
    require_wrk()
    world = max(3_600, int(1_000_000 * scale))
    small = world // 36
    seconds = max(5, int(30 * scale))
    dsn_l, built_l = await make_log(cluster, world, world)
    dsn_s, built_s = await make_log(cluster, small, world)
    logs = {
        f"{small:,} events": (dsn_s, await tokens_for(dsn_s)),
        f"{world:,} events": (dsn_l, await tokens_for(dsn_l)),
    }
    figures, sizes = await asyncio.to_thread(measure, logs, seconds)
    lines = [
        f"Mixed load: {POSTERS} connections posting single events and {READERS} reading"
        f" reports, each pausing {PAUSE_MS} ms between requests; {ROUNDS} rounds of"
        f" {seconds} s on each log in turn (means of the rounds; fsync on)",
        f"  the logs: {world:,} generated events (built, projections rebuilt and fold"
        f" snapshots taken in {built_l:.0f} s) and its first month, {small:,} events"
        f" ({built_s:.0f} s)",
        f"  reads in turn: {', '.join(READS)}",
    ]
    for name, rounds in figures.items():
        lines.append(_line(f"{name}: POST /v1/events", [p for p, _ in rounds], "req/s"))
        lines.append(_line(f"{name}: GET reports", [r for _, r in rounds], "req/s"))
    (small_name, small_rounds), (large_name, large_rounds) = figures.items()
    lines.append(
        "  answer bytes, small / large: "
        + ", ".join(
            f"{a:,}/{b:,}" for a, b in zip(sizes[small_name], sizes[large_name], strict=True)
        )
    )
    lines.append(f"  p95 at {large_name} / at {small_name} (target <= 1.3x):")
    for index, label in ((0, "POST"), (1, "GET")):
        big = statistics.mean(r[index].p95 for r in large_rounds)
        little = statistics.mean(r[index].p95 for r in small_rounds)
        each = ", ".join(
            f"{b[index].p95 / s[index].p95:.2f}x"
            for s, b in zip(small_rounds, large_rounds, strict=True)
        )
        lines.append(f"    {label:<5} {big / little:6.2f}x   (rounds: {each})")
    return lines
