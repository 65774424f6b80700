"""Projections: a full rebuild of every read model over 1,000,000 generated events
against a raw ordered read of the same log (the limit), report query latency at that
size, a report at a past position, and live lag under 2,000 events/s of appends.

The million events are made in Python and COPYed into `events` as the owner: going
through the appender would take minutes and measure the appender, not the
projections. Their audit tree is not built (the Merkle frontier check is dropped in
that throwaway database); the live-lag figure appends through the real appender into
its own database instead."""

from __future__ import annotations

import asyncio
import datetime
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from bench.generated_log import META, ON, World, generate
from bench.harness import Cluster, Figure, settings_for
from server.database.pool import create_pool
from server.eventstore import Appender, EventStore, NewEvent, canonical_json
from server.memory import settle_after_start
from server.projections import history, snapshots
from server.projections.catalog import PROJECTIONS, REPORTS, projections_named
from server.projections.commitments import commitment_rows
from server.projections.deliveries import Filters, deliveries_rows
from server.projections.host import ProjectionHost, app_connector
from server.projections.model import Conn
from server.projections.partner_record import partner_record
from server.projections.periods import parse_period
from server.projections.pledges import partner_rows, pledge_rows
from server.projections.reading import ReportReader
from server.projections.rebuild import rebuild
from server.projections.runner import ProjectionRunner
from server.projections.snapshot_keeper import bring_up_to_date
from server.projections.who_what_where import who_what_where


async def raw_read(pool: asyncpg.Pool, total: int, chunk: int = 20_000) -> Figure:
    """Every event, in position order, in chunks, through asyncpg: nothing decoded."""
    started = time.perf_counter()
    position, seen = 0, 0
    while True:
        rows = await pool.fetch(
            "SELECT position, type, schema_version, recorded_at, entry FROM events"
            " WHERE position > $1 ORDER BY position LIMIT $2",
            position,
            chunk,
        )
        if not rows:
            break
        seen += len(rows)
        position = rows[-1]["position"]
    return Figure("raw ordered read of the log (asyncpg)", seen, time.perf_counter() - started)


async def catch_up_rate(pool: asyncpg.Pool, events: int) -> Figure:
    """The live runner's batch path from an empty deliveries table (a restart far behind)."""
    runner = ProjectionRunner(pool, PROJECTIONS["deliveries"], batch_size=5000)
    started = time.perf_counter()
    while (runner.standing.position if runner.standing else 0) < events:
        _applied, more = await runner.step()
        if not more:
            break
    position = runner.standing.position if runner.standing else 0
    return Figure(
        "runner catch-up, deliveries, batches of 5,000", position, time.perf_counter() - started
    )


Query = Callable[[Conn, Any], Awaitable[Any]]


def report_queries() -> dict[str, tuple[str, Query]]:
    year = Filters(period=parse_period("jalali", "1403-01", "1403-12"))
    quarter = Filters(period=parse_period("gregorian", "2025-01", "2025-03"))
    everything = Filters()
    by_all = ["partner", "site", "sector", "month"]
    return {
        "3W, all time": ("who-what-where", lambda c, n: who_what_where(c, n, everything)),
        "3W, one Jalali year": ("who-what-where", lambda c, n: who_what_where(c, n, year)),
        "deliveries by all four, all time": (
            "deliveries",
            lambda c, n: deliveries_rows(c, n, by_all, everything),
        ),
        "deliveries by all four, one Jalali year": (
            "deliveries",
            lambda c, n: deliveries_rows(c, n, by_all, year),
        ),
        "deliveries by Jalali month": (
            "deliveries",
            lambda c, n: deliveries_rows(c, n, ["month"], Filters(period=year.period)),
        ),
        "deliveries by site,sector, one quarter": (
            "deliveries",
            lambda c, n: deliveries_rows(c, n, ["site", "sector"], quarter),
        ),
        "pledges per partner and currency": (
            "pledges", lambda c, n: partner_rows(c, n, everything.period, None)
        ),
        "pledges of one partner": (
            "pledges", lambda c, n: pledge_rows(c, n, everything.period, "p07")
        ),
        "commitments overdue of one owner": (
            "commitments", lambda c, n: commitment_rows(c, n, on=ON, status="overdue", owner="p07")
        ),
        "partner record, one year": (
            "partner", lambda c, n: partner_record(c, n, "p07", year, ON)
        ),
    }  # fmt: skip


class Latency(Figure):
    """A report's latency; `events` holds the rows it returned."""

    def line(self) -> str:
        return (
            f"  report: {self.name:<42} {self.events:>6,} rows"
            f"   p50 {self.percentile(0.5) * 1000:6.2f} ms"
            f"   p99 {self.percentile(0.99) * 1000:6.2f} ms"
        )


def _rows(body: Any) -> int:
    return len(body["rows"] if isinstance(body, dict) else body)


async def report_latency(pool: asyncpg.Pool, rounds: int) -> list[Latency]:
    """Each report as the API reads it (snapshot, locks, position, query, rows), many
    times, with the garbage collector set as a server process sets it; the HTTP layer
    and JSON encoding are not included."""
    settle_after_start()
    reader = ReportReader(pool)
    figures = []
    for name, (report, query) in report_queries().items():
        rows = _rows((await reader.read(report, query)).body)  # warm the plan and the cache
        latencies = []
        for _ in range(rounds):
            started = time.perf_counter()
            await reader.read(report, query)
            latencies.append(time.perf_counter() - started)
        figures.append(Latency(name, rows, sum(latencies), latencies))
    return figures


async def take_snapshots(pool: asyncpg.Pool) -> str:
    """Every projection's fold snapshots as the keeper takes them (every 100,000
    positions, the newest 10 kept), from none: a line with the time and the size."""
    started = time.perf_counter()
    for projection in PROJECTIONS.values():
        await bring_up_to_date(pool, projection)
    seconds = time.perf_counter() - started
    row = await pool.fetchrow(
        "SELECT count(DISTINCT position), coalesce(sum(octet_length(rows)), 0)"
        " FROM projection_snapshots WHERE name = 'deliveries'"
    )
    assert row is not None
    taken, size = row
    total = await pool.fetchval(
        "SELECT coalesce(sum(octet_length(rows)), 0) FROM projection_snapshots"
    )
    return (
        f"  fold snapshots, every {snapshots.EVERY:,}: {taken} taken in {seconds:.1f} s,"
        f" {total / 2**20:,.0f} MB stored ({size / 2**20:,.0f} MB of them deliveries)"
    )


class Past(Figure):
    """A report at a past position, folded from 0 (`latencies[0]`) and as served, from
    the newest snapshot at or below it (`seconds`)."""

    def line(self) -> str:
        return f"  {self.name:<52} {self.seconds:>8.2f} s   (from 0: {self.latencies[0]:.2f} s)"


async def at_position(pool: asyncpg.Pool, positions: list[int]) -> list[Past]:
    reader = ReportReader(pool)
    figures = []
    for position in positions:
        for name in ("3W, all time", "partner record, one year"):
            report, query = report_queries()[name]
            chosen = projections_named(REPORTS[report])
            started = time.perf_counter()
            await history.at_position(pool, chosen, position, query, from_snapshots=False)
            from_zero = time.perf_counter() - started
            started = time.perf_counter()
            await reader.read(report, query, at=position)
            seconds = time.perf_counter() - started
            figures.append(
                Past(f"at_position={position:,}: {name}", position, seconds, [from_zero])
            )
    return figures


class Progress:
    """When each projection committed which position, and waiting for all to pass one."""

    def __init__(self, names: list[str]) -> None:
        self.commits: dict[str, list[tuple[int, float]]] = {name: [] for name in names}
        self._moved = asyncio.Event()

    def committed(self, name: str, position: int) -> None:
        self.commits[name].append((position, time.perf_counter()))
        self._moved.set()

    def lowest(self) -> int:
        return min((c[-1][0] if c else 0) for c in self.commits.values())

    async def reached(self, position: int) -> None:
        while self.lowest() < position:
            self._moved.clear()
            await self._moved.wait()

    def when(self, position: int) -> float:
        """The moment the last projection passed `position`."""
        return max(
            next(t for p, t in commits if p >= position) for commits in self.commits.values()
        )


async def live_lag(dsn: str, rate: int, seconds: float, base: int) -> Figure:
    """Append `rate` events/s through the real appender (after `base` events) while the
    projections run; lag = from the append's receipt until every projection is past it."""
    settings = settings_for(dsn)
    pool = await create_pool(dsn, settings, min_size=4, max_size=12)
    appender = Appender(pool)
    appender.start()
    store = EventStore(pool, appender)
    world = World(base + int(rate * seconds) + 200)
    made = ((t, s, canonical_json(d)) for t, s, d in world.events())

    def take(n: int) -> list[NewEvent]:
        return [
            NewEvent(id=uuid.uuid4(), type=t, stream=s, data=d, metadata=META)
            for t, s, d in (next(made) for _ in range(n))
        ]

    for _ in range(base // 1000):
        await store.append(take(1000))
    progress = Progress(list(PROJECTIONS))
    host = ProjectionHost(pool, app_connector(dsn, settings))
    for name, runner in host.runners.items():
        runner.on_commit = lambda position, name=name: progress.committed(name, position)
    await host.start()
    try:
        await progress.reached(await store.head())
        receipts: list[tuple[int, float]] = []

        async def one(events: list[NewEvent]) -> None:
            for receipt in await store.append(events):
                receipts.append((receipt.position, time.perf_counter()))

        tick, per_tick = 0.01, rate // 100
        started = time.perf_counter()
        pending = []
        for i in range(int(seconds / tick)):
            # many small requests, as partners post: one or two events each
            batch = take(per_tick)
            pending += [asyncio.create_task(one(batch[j : j + 2])) for j in range(0, per_tick, 2)]
            await asyncio.sleep(max(0.0, started + (i + 1) * tick - time.perf_counter()))
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - started
        await progress.reached(await store.head())
    finally:
        await host.close()
        await appender.close()
        await pool.close()
    lags = [max(0.0, progress.when(position) - at) for position, at in receipts]
    return Figure(f"live lag, {rate:,} ev/s appended", len(receipts), elapsed, lags)


async def run(cluster: Cluster, scale: float = 1.0) -> list[str]:
    total = max(10_000, int(1_000_000 * scale))
    past = max(1_000, int(100_000 * scale))
    dsn = await cluster.fresh_database()
    generated = await generate(dsn, total)
    pool = await create_pool(dsn, settings_for(dsn), min_size=2, max_size=4)
    try:
        raw = await raw_read(pool, total)
        catch = await catch_up_rate(pool, min(total, 200_000))
        started = time.perf_counter()
        await rebuild(pool, PROJECTIONS.values())
        rebuilt = Figure("full rebuild, all 5 projections", total, time.perf_counter() - started)
        counts = {
            name: await pool.fetchval(f"SELECT count(*) FROM readmodel.{name}")
            for name in (
                "deliveries",
                "delivery_cells",
                "delivery_months_g",
                "pledges",
                "commitments",
            )
        }
        reports = await report_latency(pool, rounds=max(20, int(200 * min(1.0, scale * 4))))
        snapshotted = await take_snapshots(pool)
        # at a snapshot's position, and half way to the next one
        past_figures = await at_position(pool, [past, past + past // 2])
    finally:
        await pool.close()
    lag = await live_lag(await cluster.fresh_database(), 2_000, 10.0 * min(1.0, scale * 4), 20_000)

    worst = max(f.percentile(0.99) for f in reports) * 1000
    # latency follows the rows a report returns, not the events behind it
    usual = max(f.percentile(0.99) for f in reports if f.events <= 5_000) * 1000
    biggest = max(reports, key=lambda f: f.events)
    at_past = [f for f in past_figures if f.events == past]
    lines = [
        f"Projections ({total:,} events generated and COPYed in {generated:.1f} s;"
        f" {', '.join(f'{k} {v:,}' for k, v in counts.items())} rows)",
        raw.line(),
        rebuilt.line(),
        catch.line(),
        *(f.line() for f in reports),
        snapshotted,
        *(f.line() for f in past_figures),
        lag.line(),
        "  ratios and targets:",
        f"    rebuild / raw read                 {rebuilt.rate / raw.rate:6.2f}x",
        f"    full rebuild                     {rebuilt.rate:>8,.0f} ev/s (target >= 50,000)",
        f"    report p99, answers <= 5,000 rows  {usual:8.2f} ms   (target < 50 ms)",
        f"    report p99, all ({biggest.events:,} rows max)   {worst:8.2f} ms   (target < 50 ms)",
        f"    at_position={past:,}, slowest      {max(f.seconds for f in at_past):8.2f} s"
        f"    (target < 2 s; from 0: {max(f.latencies[0] for f in at_past):.2f} s)",
        f"    live lag p99 at 2,000 ev/s         {lag.percentile(0.99) * 1000:8.2f} ms"
        "   (target < 200 ms)",
        f"    live lag median                    {statistics.median(lag.latencies) * 1000:8.2f} ms",
    ]
    return lines


if __name__ == "__main__":
    import argparse

    from bench.harness import machine

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every event count")
    scale = parser.parse_args().scale

    async def main() -> None:
        print(
            f"Hamkari bench, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {machine()}"
        )
        with Cluster() as cluster:
            for line in await run(cluster, scale):
                print(line, flush=True)

    asyncio.run(main())
