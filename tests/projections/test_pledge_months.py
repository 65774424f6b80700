"""Pledged and disbursed per month, in both calendars, on a world whose figures are known
by hand: disbursements on both sides of month boundaries (Shahrivar/Mehr in September,
Mehr/Aban in October), a cancelled pledge and an uncommitted one apart, a disbursement
in the wrong currency left out, a pledge recorded on either side of Tehran's midnight.
Live, rebuilt, at a past position and after the migration reset, the figures agree."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest

from schemas.events import EVENT_TYPES
from server.database.migrate import MIGRATIONS_DIR
from server.eventstore import EventStore, canonical_json
from server.projections.catalog import PROJECTIONS
from server.projections.commitments import tehran_date
from server.projections.decoding import log_head
from server.projections.model import Event
from server.projections.periods import Period, month_key, parse_period
from server.projections.persistence import live_names, write_all
from server.projections.pledge_months import month_rows, month_totals
from server.projections.pledges import PLEDGES
from server.projections.rebuild import rebuild
from tests import builders as b
from tests.projections.helpers import Spec, append, catch_up, positions, reader, table_contents

MIGRATION = next(Path(MIGRATIONS_DIR).glob("0006_*.sql"))
PA, PB, PC = (f"00000000-0000-4000-8000-0000000005{i:02d}" for i in range(1, 4))


def disbursed(pledge: str, on: str, amount: str, currency: str = "EUR") -> Spec:
    return (
        "DisbursementRecorded",
        b.disbursement_recorded(pledge, amount=amount, currency=currency, disbursed_on=on),
    )


WORLD: list[Spec] = [
    ("PledgeMade", b.pledge_made(PA, "nrc", amount="100000.00", currency="EUR")),
    ("PledgeCommitted", b.pledge_committed(PA)),
    ("PledgeAmended", b.pledge_amended(PA, amount="120000.00")),
    disbursed(PA, "2025-09-22", "1000.00"),  # the last day of Shahrivar 1404
    disbursed(PA, "2025-09-23", "2000.00"),  # 1 Mehr 1404, still September
    disbursed(PA, "2025-10-22", "4000.00"),  # the last day of Mehr
    disbursed(PA, "2025-10-23", "8000.00"),  # 1 Aban 1404, still October
    disbursed(PA, "2025-10-10", "999", currency="USD"),  # not the pledge's currency
    ("PledgeMade", b.pledge_made(PB, "ayandeh", amount="50000", currency="EUR")),
    ("PledgeCommitted", b.pledge_committed(PB)),
    disbursed(PB, "2025-10-01", "500.00"),
    ("PledgeCancelled", b.pledge_cancelled(PB)),
    ("PledgeMade", b.pledge_made(PC, "unhcr", amount="1000000000", currency="IRR")),
    disbursed(PC, "2025-10-05", "250000000", currency="IRR"),
]


def decoded(data: dict[str, Any]) -> Any:
    """PledgeMade data as the projection reads it from the log."""
    return msgspec.json.decode(canonical_json(data), type=EVENT_TYPES["PledgeMade"])


def figures(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    return {
        (r["month"], r["currency"], r["status"]): (
            r["pledges"],
            r["pledged"],
            r["disbursements"],
            r["disbursed"],
        )
        for r in rows
    }


async def months(pool: asyncpg.Pool, period: Period, at: int | None = None) -> Any:
    answer = await reader(pool).read(
        "pledges", lambda conn, names: month_rows(conn, names, period, None), at=at
    )
    return answer.body


@pytest.fixture
async def made_on(store: EventStore, pool: asyncpg.Pool) -> datetime.date:
    """The world appended and folded; the day (Tehran) its pledges were recorded."""
    receipts = await append(store, WORLD)
    await catch_up(pool)
    return tehran_date(receipts[0].recorded_at)


async def test_disbursements_fall_in_the_jalali_month_of_their_date(
    pool: asyncpg.Pool, made_on: datetime.date
) -> None:
    rows = figures(await months(pool, parse_period("jalali", "1404-06", "1404-08")))
    assert rows == {
        ("1404-06", "EUR", "committed"): (0, "0.00", 1, "1000.00"),
        # Mehr spans late September and most of October
        ("1404-07", "EUR", "committed"): (0, "0.00", 2, "6000.00"),
        ("1404-07", "EUR", "cancelled"): (0, "0.00", 1, "500.00"),
        ("1404-07", "IRR", "uncommitted"): (0, "0", 1, "250000000"),
        ("1404-08", "EUR", "committed"): (0, "0.00", 1, "8000.00"),
    }


async def test_the_same_disbursements_by_gregorian_month(
    pool: asyncpg.Pool, made_on: datetime.date
) -> None:
    rows = figures(await months(pool, parse_period("gregorian", "2025-09", "2025-10")))
    assert rows == {
        ("2025-09", "EUR", "committed"): (0, "0.00", 2, "3000.00"),
        ("2025-10", "EUR", "committed"): (0, "0.00", 2, "12000.00"),
        ("2025-10", "EUR", "cancelled"): (0, "0.00", 1, "500.00"),
        ("2025-10", "IRR", "uncommitted"): (0, "0", 1, "250000000"),
    }
    labels = {
        (r["month"], r["month_label_fa"], r["month_label_en"])
        for r in await months(pool, parse_period("jalali", "1404-07", "1404-07"))
    }
    assert labels == {("1404-07", "مهر ۱۴۰۴", "Mehr 1404")}


async def test_pledges_count_in_the_month_they_were_recorded_at_their_amended_amount(
    pool: asyncpg.Pool, made_on: datetime.date
) -> None:
    for calendar in ("gregorian", "jalali"):
        key = month_key(made_on, calendar)  # type: ignore[arg-type]
        period = Period(calendar=calendar, first=key, last=key)  # type: ignore[arg-type]
        rows = await months(pool, period)
        assert {k[1:]: v for k, v in figures(rows).items()} == {
            ("EUR", "committed"): (1, "120000.00", 0, "0.00"),
            ("EUR", "cancelled"): (1, "50000", 0, "0"),
            ("IRR", "uncommitted"): (1, "1000000000", 0, "0"),
        }
    # all months: totals per status, committed apart from the rest
    sums = month_totals(await months(pool, Period()))
    assert sums["committed"] == [
        {
            "currency": "EUR",
            "pledges": 1,
            "pledged": "120000.00",
            "disbursements": 4,
            "disbursed": "15000.00",
        }
    ]
    assert [(r["currency"], r["pledged"], r["disbursed"]) for r in sums["cancelled"]] == [
        ("EUR", "50000", "500.00")
    ]
    assert [(r["currency"], r["pledged"], r["disbursed"]) for r in sums["uncommitted"]] == [
        ("IRR", "1000000000", "250000000")
    ]


async def test_a_pledge_recorded_after_tehran_midnight_counts_in_the_new_month(
    pool: asyncpg.Pool,
) -> None:
    # 20:30 UTC is midnight in Tehran (UTC+3:30): 23 October 2025 is 1 Aban 1404
    before = datetime.datetime(2025, 10, 22, 20, 29, 59, tzinfo=datetime.UTC)
    after = datetime.datetime(2025, 10, 22, 20, 30, tzinfo=datetime.UTC)
    made = b.pledge_made(PA, amount="10.00")
    later = b.pledge_made(PB, amount="20.00")
    state = PLEDGES.empty()
    for position, (moment, data) in enumerate(((before, made), (after, later)), start=1):
        PLEDGES.fold(state, Event(position, "PledgeMade", moment, decoded(data)))
    async with pool.acquire() as conn, conn.transaction():
        await write_all(conn, PLEDGES, live_names(PLEDGES), state)
        jalali = await month_rows(conn, live_names(PLEDGES), Period(calendar="jalali"), None)
        gregorian = await month_rows(conn, live_names(PLEDGES), Period(), None)
    assert [(r["month"], r["pledged"]) for r in jalali] == [
        ("1404-07", "10.00"),
        ("1404-08", "20.00"),
    ]
    assert [(r["month"], r["pledged"]) for r in gregorian] == [("2025-10", "30.00")]


async def test_rebuilt_and_past_figures_equal_the_live_ones(
    pool: asyncpg.Pool, made_on: datetime.date
) -> None:
    everything = Period(calendar="jalali")
    live, head = await months(pool, everything), await log_head(pool)
    tables = await table_contents(pool)
    assert len(tables["disbursements"]) == 6  # the USD one is left out, as in the total
    await rebuild(pool, [PROJECTIONS["pledges"]])
    assert await table_contents(pool) == tables
    assert await months(pool, everything) == live
    # at a past position: before the cancellation, PB's money was committed
    cancelled_at = next(i for i, (t, _) in enumerate(WORLD, start=1) if t == "PledgeCancelled")
    past = figures(await months(pool, everything, at=cancelled_at - 1))
    assert past[("1404-07", "EUR", "committed")] == (0, "0.00", 3, "6500.00")
    assert await months(pool, everything, at=head) == live


async def test_the_migration_resets_the_pledges_projection_and_the_runner_refolds_it(
    pool: asyncpg.Pool, database_url: str, made_on: datetime.date
) -> None:
    before, head = await table_contents(pool), await log_head(pool)
    migration = MIGRATION.read_text()
    conn = await asyncpg.connect(database_url)  # the owner, as `hamkari migrate` runs
    try:
        async with conn.transaction():
            # the shape 0004 gave, filled and caught up, as a database before 0006 was;
            # the server's role owned the read models then (0009 gave them their owner)
            await conn.execute("ALTER SCHEMA readmodel OWNER TO hamkari_app")
            await conn.execute("ALTER TABLE readmodel.pledges OWNER TO hamkari_app")
            await conn.execute("DROP TABLE readmodel.disbursements")
            await conn.execute("ALTER TABLE readmodel.pledges DROP COLUMN made_on")
        async with conn.transaction():
            await conn.execute(migration)
    finally:
        await conn.close()
    assert (await positions(pool))["pledges"] == 0
    assert not (await table_contents(pool))["pledges"]
    await catch_up(pool)
    assert (await positions(pool))["pledges"] == head
    assert await table_contents(pool) == before
