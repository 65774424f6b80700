"""The delivery totals per partner, site, sector and month of each calendar hold the
sums of the cells, however they were kept (incrementally, through corrections and
retractions, or by a rebuild); the deliveries report read from them says what the
same GROUP BY over the cells says, for every grouping."""

from __future__ import annotations

import itertools

import asyncpg

from server.eventstore import EventStore
from server.projections.catalog import PROJECTIONS
from server.projections.deliveries import (
    COUNT_COLUMNS,
    GROUPS,
    MONTH_TOTALS,
    SUMS,
    Filters,
    deliveries_report,
    where,
)
from server.projections.periods import format_month, parse_period
from server.projections.rebuild import rebuild
from tests.projections.helpers import append, catch_up
from tests.projections.scenario import STEPS

COLUMN = {"gregorian": "g_month", "jalali": "j_month"}


async def totals_from_cells(pool: asyncpg.Pool, calendar: str) -> list[tuple[object, ...]]:
    sums = ", ".join(f"sum({c})::bigint" for c in COUNT_COLUMNS)
    keys = f"partner_id, site_id, sector, {COLUMN[calendar]}"
    rows = await pool.fetch(
        f"SELECT {keys}, {sums} FROM readmodel.delivery_cells GROUP BY {keys} ORDER BY {keys}"
    )
    return [tuple(r) for r in rows]


async def month_totals(pool: asyncpg.Pool, calendar: str) -> list[tuple[object, ...]]:
    keys = f"partner_id, site_id, sector, {COLUMN[calendar]}"
    rows = await pool.fetch(
        f"SELECT {keys}, {', '.join(COUNT_COLUMNS)}"
        f" FROM readmodel.{MONTH_TOTALS[calendar]} ORDER BY {keys}"  # type: ignore[index]
    )
    return [tuple(r) for r in rows]


async def test_month_totals_are_the_cells_summed_live_and_after_a_rebuild(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    for step in STEPS:
        for spec in step:
            await append(store, [spec])
            await catch_up(pool, batch_size=2)
            for calendar in COLUMN:
                assert await month_totals(pool, calendar) == await totals_from_cells(pool, calendar)
    live = {calendar: await month_totals(pool, calendar) for calendar in COLUMN}
    assert all(live.values())
    await rebuild(pool, [PROJECTIONS["deliveries"]])
    assert {calendar: await month_totals(pool, calendar) for calendar in COLUMN} == live


_KEY = {"partner": "partner_id", "site": "site_id", "sector": "sector"}


async def cells_grouped(
    conn: asyncpg.Connection, group_by: tuple[str, ...], filters: Filters
) -> list[tuple[object, ...]]:
    """The deliveries report's keys and counts as a GROUP BY over the cells gives them."""
    column = filters.period.column
    columns = [column if g == "month" else _KEY[g] for g in GROUPS if g in group_by]
    condition, args = where(filters)
    listed = ", ".join(f"c.{c}" for c in columns)
    select = f"{listed}, " if columns else ""
    group = f" GROUP BY {listed} ORDER BY {listed}" if columns else ""
    rows = await conn.fetch(
        f"SELECT {select}{SUMS} FROM readmodel.delivery_cells c{condition}{group}", *args
    )
    width = len(columns)
    return [
        tuple(format_month(v) if c == column else v for c, v in zip(columns, r, strict=False))
        + tuple(r[width:])
        for r in rows
    ]


async def test_every_grouping_reads_the_same_figures_as_a_group_by_over_the_cells(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    for step in STEPS:
        await append(store, step)
    await catch_up(pool)
    names = {t: f"readmodel.{t}" for t in MONTH_TOTALS.values()}
    for calendar, first, last in (("gregorian", "2025-09", "2025-10"), ("jalali", None, None)):
        filters = Filters(period=parse_period(calendar, first, last))  # type: ignore[arg-type]
        for size in range(len(GROUPS) + 1):
            for group_by in itertools.combinations(GROUPS, size):
                async with pool.acquire() as conn:
                    got = await deliveries_report(conn, names, list(group_by), filters)
                    expected = await cells_grouped(conn, group_by, filters)
                keys = ["month" if g == "month" else _KEY[g] for g in GROUPS if g in group_by]
                seen = [tuple(row[k] for k in [*keys, *COUNT_COLUMNS]) for row in got]
                assert seen == expected, (calendar, group_by)
                assert seen, (calendar, group_by)
