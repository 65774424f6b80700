"""`?at_position=N` folds the log up to N with the live fold and runs the live SQL on
the result: it must say exactly what the live report said when the log was at N."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from server.config import Settings
from server.database.pool import create_pool
from server.eventstore import EventStore
from server.projections.commitments import commitment_rows
from server.projections.deliveries import Filters, deliveries_report
from server.projections.model import Conn
from server.projections.partner_record import partner_record
from server.projections.periods import Period, parse_period
from server.projections.pledge_months import month_rows
from server.projections.pledges import partner_rows, pledge_rows
from server.projections.reading import ReportReader
from server.projections.who_what_where import who_what_where
from tests.projections.helpers import append, catch_up, reader
from tests.projections.scenario import STEPS

ON = datetime.date(2025, 11, 1)
JALALI = Filters(period=parse_period("jalali", None, None))

Query = Callable[[Conn, Any], Awaitable[Any]]
REPORTS: dict[str, tuple[str, Query]] = {
    "deliveries": (
        "deliveries",
        lambda c, n: deliveries_report(c, n, ["partner", "site", "sector", "month"], Filters()),
    ),
    "deliveries-jalali": ("deliveries", lambda c, n: deliveries_report(c, n, ["month"], JALALI)),
    "who-what-where": ("who-what-where", lambda c, n: who_what_where(c, n, JALALI)),
    "pledges": ("pledges", lambda c, n: pledge_rows(c, n, Period(), None)),
    "pledges-by-partner": ("pledges", lambda c, n: partner_rows(c, n, Period(), None)),
    "pledges-by-month": ("pledges", lambda c, n: month_rows(c, n, JALALI.period, None)),
    "commitments": ("commitments", lambda c, n: commitment_rows(c, n, on=ON)),
    "partner": ("partner", lambda c, n: partner_record(c, n, "nrc", Filters(), ON)),
}


async def everything(read: ReportReader, at: int | None = None) -> dict[str, Any]:
    result = {}
    for name, (report, query) in REPORTS.items():
        answer = await read.read(report, query, at=at)
        result[name] = (answer.as_of_position, answer.body)
    return result


async def test_at_position_answers_what_the_live_report_said_then(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    read = reader(pool)
    said: dict[int, dict[str, Any]] = {0: await everything(read)}
    for step in STEPS:
        # one event at a time where it matters (deliveries and their corrections)
        batches = [[spec] for spec in step] if len(step) <= 6 else [step]
        for batch in batches:
            receipts = await append(store, batch)
            await catch_up(pool, batch_size=2)  # small batches: the incremental path
            said[receipts[-1].position] = await everything(read)
    assert len(said) > 10
    for position, live in said.items():
        assert all(as_of == position for as_of, _ in live.values())
        assert await everything(read, at=position) == live, f"at_position={position}"


async def test_at_position_can_be_asked_again_and_again_on_one_connection(
    store: EventStore, database_url: str, settings: Settings
) -> None:
    # the temporary tables come and go under the same names on the same connection
    await append(store, [spec for step in STEPS[:2] for spec in step])
    one_connection = await create_pool(database_url, settings, min_size=1, max_size=1)
    try:
        read = reader(one_connection)
        first = await everything(read, at=7)
        for at in (3, 9, 7):
            again = await everything(read, at=at)
            if at == 7:
                assert again == first
    finally:
        await one_connection.close()
