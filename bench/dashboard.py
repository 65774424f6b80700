"""Dashboard pages at 1,000,000 events: each page rendered through the app (session
cookie, templates, the same report queries), timed from request to full HTML.

The log is the projections bench's generated one, COPYed in and folded by a rebuild; its
audit tree is not built, so the receipt and audit pages show no checkpoint (their proof
reads are measured by the audit bench). Run: `.venv/bin/python -m bench.dashboard`."""

from __future__ import annotations

import asyncio
import datetime
import re
import statistics
import tempfile
import time

import asyncpg
from litestar.testing import AsyncTestClient

from bench.generated_log import generate
from bench.harness import Cluster, settings_for
from server.app import create_app
from server.auth.tokens import issue
from server.config import Settings
from server.database.pool import create_pool
from server.projections.catalog import PROJECTIONS
from server.projections.rebuild import rebuild

PAGES = (
    "/?month={month}",
    "/who-what-where",
    "/who-what-where?sector=education&from={first}&to={last}",
    "/pledges",
    "/pledges?partner=p07",
    "/commitments",
    "/commitments?status=overdue",
    "/partners/p07",
    "/partners/p07?from={first}&to={last}",
    "/log",
    "/log?type=MeetingHeld",
    "/log?type=PeriodLocked",
    "/log/{middle}",
    "/audit",
)
# the generated log's busiest year, in each language's calendar
MONTHS = {
    "fa": {"month": "1404-07", "first": "1404-01", "last": "1404-12"},
    "en": {"month": "2025-10", "first": "2025-01", "last": "2025-12"},
}


async def run(cluster: Cluster, total: int, rounds: int) -> list[str]:
    dsn = await cluster.fresh_database()
    generated = await generate(dsn, total)
    pool = await create_pool(dsn, settings_for(dsn), min_size=1, max_size=4)
    try:
        started = time.perf_counter()
        await rebuild(pool, PROJECTIONS.values())
        folded = time.perf_counter() - started
    finally:
        await pool.close()
    conn = await asyncpg.connect(dsn)
    try:
        token = await issue(conn, name="bench-coordinator", role="coordinator")
    finally:
        await conn.close()
    settings = Settings(
        database_url=dsn,
        data_dir=tempfile.mkdtemp(prefix="hamkari-bench-web-"),
        projections_run=False,
        checkpoint_events=0,
        checkpoint_seconds=0,
        web_secure_cookies=False,
    )
    lines = [f"Dashboard pages ({total:,} events: COPY {generated:.1f} s, rebuild {folded:.1f} s)"]
    async with AsyncTestClient(create_app(settings), timeout=60) as client:
        form = (await client.get("/sign-in")).text
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        signed = await client.post("/sign-in", data={"token": token, "_csrf_token": csrf.group(1)})
        assert signed.status_code in (200, 303), signed.text
        for lang in ("fa", "en"):
            client.cookies.set("hamkari_lang", lang)
            for page in PAGES:
                path = page.format(middle=total // 2, **MONTHS[lang])
                timings = []
                for _ in range(rounds):
                    began = time.perf_counter()
                    response = await client.get(path)
                    timings.append(time.perf_counter() - began)
                    assert response.status_code == 200, (path, response.text[:500])
                timings.sort()
                p50 = statistics.median(timings) * 1000
                worst = timings[-1] * 1000
                lines.append(
                    f"  {lang} {path:<58} {len(response.content) // 1024:>5} KiB"
                    f"  p50 {p50:8.1f} ms  max {worst:8.1f} ms"
                )
    return lines


if __name__ == "__main__":
    import argparse

    from bench.harness import machine

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    async def main() -> None:
        print(
            f"Hamkari bench, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {machine()}"
        )
        with Cluster() as cluster:
            for line in await run(cluster, args.events, args.rounds):
                print(line, flush=True)

    asyncio.run(main())
