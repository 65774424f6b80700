"""Append throughput: raw asyncpg inserts (the limit), the eventsourcing library's own
PostgreSQL recorder (the peer), and Hamkari's group-committing appender."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from bench.harness import Cluster, Figure, pool_for, settings_for, timed_callers
from server.database.pool import create_pool
from server.eventstore import Appender, EventStore, Metadata, NewEvent, canonical_json

PAYLOAD = canonical_json(
    {
        "delivery_id": "6f1c1b5e-3a53-4b8f-9a55-0b9f4c2f2a10",
        "partner_id": "nrc",
        "site_id": "gol-tappeh",
        "sector": "education",
        "beneficiaries": {"women": 12, "men": 9, "girls": 20, "boys": 18},
    }
)
META = Metadata(principal="bench", role="partner", partner_id="nrc", request_id="bench")


def event(stream: str) -> NewEvent:
    return NewEvent(
        id=uuid.uuid4(), type="ServiceDelivered", stream=stream, data=PAYLOAD, metadata=META
    )


async def raw_inserts(dsn: str, connections: int, total: int) -> Figure:
    """One autocommitted single-row INSERT per event from `connections` connections."""
    async with pool_for(dsn, connections) as pool:
        await pool.execute(
            "CREATE TABLE raw_events (id bigserial PRIMARY KEY, event_id uuid UNIQUE,"
            " stream text, data bytea)"
        )

        async def insert(_n: int, _i: int) -> int:
            await pool.execute(
                "INSERT INTO raw_events (event_id, stream, data) VALUES ($1, $2, $3)",
                uuid.uuid4(),
                "s",
                PAYLOAD,
            )
            return 1

        return await timed_callers(
            f"raw asyncpg INSERT, {connections} connections",
            connections,
            total // connections,
            insert,
        )


def library_recorder(dsn: str, threads: int, total: int) -> Figure:
    """The eventsourcing library's PostgresApplicationRecorder, one event per call."""
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    parts = urlsplit(dsn)
    query = parse_qs(parts.query)
    datastore = PostgresDatastore(
        dbname=parts.path.lstrip("/"),
        host=query["host"][0],
        port=query.get("port", ["5432"])[0],
        user=parts.username or "postgres",
        password="",
        pool_size=threads,
    )
    recorder = PostgresApplicationRecorder(datastore)
    recorder.create_table()
    per_thread = total // threads

    def work() -> None:
        for _ in range(per_thread):
            recorder.insert_events(
                [
                    StoredEvent(
                        originator_id=uuid.uuid4(),
                        originator_version=1,
                        topic="bench:Event",
                        state=PAYLOAD,
                    )
                ]
            )

    workers = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - start
    datastore.close()
    return Figure(
        f"eventsourcing PostgreSQL recorder, {threads} threads", per_thread * threads, seconds
    )


async def hamkari_append(dsn: str, callers: int, batch: int, total: int) -> Figure:
    pool = await create_pool(dsn, settings_for(dsn), min_size=2, max_size=4)
    appender = Appender(pool)
    store = EventStore(pool, appender)
    rounds = total // (callers * batch)
    # events are made before the clock starts: the bench times the store, not uuid4()
    prepared = [
        [[event(f"s-{n}") for _ in range(batch)] for _ in range(rounds)] for n in range(callers)
    ]
    try:

        async def append(n: int, i: int) -> int:
            await store.append(prepared[n][i])
            return batch

        label = f"Hamkari append, {callers} caller(s), {batch} event(s) each"
        figure = await timed_callers(label, callers, rounds, append)
        figure.name += f" [{appender.events_committed / appender.groups_committed:.0f}/commit]"
        return figure
    finally:
        await appender.close()
        await pool.close()


async def run(cluster: Cluster, scale: float = 1.0) -> list[str]:
    def n(count: int) -> int:
        return max(1, int(count * scale))

    raw = await raw_inserts(await cluster.fresh_database(), 16, n(20_000))
    peer = await asyncio.to_thread(library_recorder, await cluster.fresh_database(), 8, n(4_000))
    one = await hamkari_append(await cluster.fresh_database(), 1, 1, n(3_000))
    sixteen = await hamkari_append(await cluster.fresh_database(), 16, 1, n(16_000))
    sixty_four = await hamkari_append(await cluster.fresh_database(), 64, 1, n(40_000))
    batches = await hamkari_append(await cluster.fresh_database(), 16, 100, n(200_000))
    figures = [raw, peer, one, sixteen, sixty_four, batches]
    p99 = sixty_four.percentile(0.99) * 1000
    lines = ["Event store: appends (fsync on)"] + [f.line() for f in figures]
    lines += [
        "  ratios and targets:",
        f"    64 callers / raw 16 connections  {sixty_four.rate / raw.rate:6.2f}x"
        "   (target >= 0.7x)",
        f"    64 callers / library recorder    {sixty_four.rate / peer.rate:6.2f}x"
        "   (target >= 8x)",
        f"    64 callers                       {sixty_four.rate:>8,.0f} ev/s (target >= 10,000)",
        f"    batches of 100                   {batches.rate:>8,.0f} ev/s (target >= 50,000)",
        f"    p99 append latency, 64 callers   {p99:8.2f} ms   (target < 20 ms)",
    ]
    return lines
