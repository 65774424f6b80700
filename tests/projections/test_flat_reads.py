"""A report whose answer does not grow with the log reads no more as the log grows:
its queries find the rows of the period asked, not every row the log ever made
(issue 19; docs/benchmarks.md, "Issue 19: flat latency")."""

from __future__ import annotations

import datetime
import json
from typing import Any

import asyncpg

from server.eventstore import EventStore
from server.projections.catalog import PROJECTIONS
from server.projections.deliveries import Filters
from server.projections.partner_record import partner_record
from server.projections.periods import parse_period
from server.projections.persistence import live_names
from tests import builders as b
from tests.projections.helpers import append, catch_up

ON = datetime.date(2025, 11, 1)


class Recording:
    """A connection that remembers the statements it was asked to fetch."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.fetched: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, sql: str, *args: Any) -> Any:
        self.fetched.append((sql, args))
        return await self.conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return await self.conn.fetchrow(sql, *args)


async def blocks_read(conn: Any, sql: str, args: tuple[Any, ...]) -> int:
    """The buffers a statement touches, as PostgreSQL counts them running it."""
    plan = json.loads(await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *args))
    top = plan[0]["Plan"]
    return int(top["Shared Hit Blocks"] + top["Shared Read Blocks"])


async def test_a_record_of_a_past_month_reads_none_of_the_partners_later_challenges(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await append(
        store,
        [
            ("PartnerRegistered", b.partner_registered("nrc")),
            ("SiteRegistered", b.site_registered("gol-tappeh")),
            ("ServiceDelivered", b.service_delivered()),
        ],
    )
    # challenges are dated the day they are told (today): none is in March 2025
    for _ in range(4):
        await append(store, [("ChallengeReported", b.challenge_reported()) for _ in range(500)])
    await catch_up(pool)
    async with pool.acquire() as conn:
        await conn.execute("ANALYZE readmodel.challenges")
        recording = Recording(conn)
        names = live_names(PROJECTIONS["partner_record"])
        for projection in ("deliveries", "pledges", "commitments", "directory"):
            names.update(live_names(PROJECTIONS[projection]))
        march = Filters(period=parse_period("gregorian", "2025-03", "2025-03"))
        record = await partner_record(recording, names, "nrc", march, ON)
        assert record is not None and record["rows"] and record["challenges"] == []
        table = f"FROM {names['challenges']} "
        [(sql, args)] = [(s, a) for s, a in recording.fetched if table in s]
        # 2,000 challenges fill dozens of pages; the month's (none) are found in the index
        assert await blocks_read(conn, sql, args) <= 4
