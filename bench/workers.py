"""Workers: `hamkari serve --workers 1` against `--workers 2` on the same kind of fresh
database, with wrk driving single-event posts and report reads.

Every worker has its own appender, pool and aggregate cache; the log's advisory lock
orders their group commits, and each projection runs in one worker at a time. On a
2-core machine PostgreSQL, wrk and the workers share the cores, so the figure to read
is the ratio, and what a second worker buys where CPU, not the disk, is the limit."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from bench.harness import Cluster
from bench.http import Load, count_deliveries, prepare, run_wrk, served, wrk

READ_SCRIPT = Path(__file__).with_name("read_report.lua")
REPORT = "/v1/reports/who-what-where"
ROUNDS = 3


def wrk_get(name: str, url: str, token: str, connections: int, seconds: int) -> Load:
    env = {"HAMKARI_TOKEN": token, "HAMKARI_PATH": REPORT}
    return run_wrk(name, url, READ_SCRIPT, env, 1, connections, seconds)


def measure(dsn: str, tokens: dict[str, str], workers: int, seconds: int) -> tuple[Load, Load]:
    with served(dsn, tokens, workers) as url:
        posts = wrk(
            f"{workers} worker(s): POST single events, 64 conns", url, tokens["nrc"], 1, 64, seconds
        )
        reads = wrk_get(
            f"{workers} worker(s): GET {REPORT}, 32 conns", url, tokens["nrc"], 32, seconds
        )
    return posts, reads


def _idle(load: Load) -> str:
    return "n/a" if load.idle is None else f"{load.idle:.0%}"


def median_load(loads: list[Load]) -> Load:
    return sorted(loads, key=lambda load: load.events_per_second)[len(loads) // 2]


async def run(cluster: Cluster, scale: float = 1.0) -> list[str]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    seconds = max(3, int(6 * scale))
    # 1 and 2 workers in turn, three rounds, medians: on a shared machine the noise of
    # one run is larger than the difference measured
    figures: dict[int, list[tuple[Load, Load]]] = {1: [], 2: []}
    for _round in range(ROUNDS):
        for workers in (1, 2):
            dsn = await cluster.fresh_database()
            tokens = await prepare(dsn)
            posts, reads = await asyncio.to_thread(measure, dsn, tokens, workers, seconds)
            stored = await count_deliveries(dsn)
            acknowledged = posts.requests - posts.failed
            if stored < acknowledged:
                raise RuntimeError(f"{acknowledged:,} acknowledged but only {stored:,} stored")
            figures[workers].append((posts, reads))
    posts1, posts2 = (median_load([p for p, _ in figures[w]]) for w in (1, 2))
    reads1, reads2 = (median_load([r for _, r in figures[w]]) for w in (1, 2))
    lines = [
        f"Workers: `hamkari serve --workers N`, wrk -t2, {seconds} s a figure, median of "
        f"{ROUNDS} rounds (fsync on)"
    ]
    lines += [load.line() for load in (posts1, posts2)]
    lines += [load.line().replace(" ev/s", " req/s") for load in (reads1, reads2)]
    post_ratio = posts2.events_per_second / posts1.events_per_second
    read_ratio = reads2.events_per_second / reads1.events_per_second
    each = ", ".join(
        f"{b.events_per_second / a.events_per_second:.2f}x"
        for (a, _), (b, _) in zip(figures[1], figures[2], strict=True)
    )
    lines += [
        "  ratios:",
        f"    posts, 2 workers / 1           {post_ratio:6.2f}x   (rounds: {each})",
        f"    reads, 2 workers / 1           {read_ratio:6.2f}x",
        "  the machine's CPU left idle under load (what a second worker could use):",
        f"    posts: 1 worker {_idle(posts1)}, 2 workers {_idle(posts2)}",
        f"    reads: 1 worker {_idle(reads1)}, 2 workers {_idle(reads2)}",
    ]
    return lines


if __name__ == "__main__":
    # `python -m bench.workers`: this section alone, on its own embedded PostgreSQL
    with Cluster() as own:
        print("\n".join(asyncio.run(run(own, float(sys.argv[1]) if sys.argv[1:] else 1.0))))
