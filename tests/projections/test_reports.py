"""Every report's figures on a scenario whose totals are known by hand: corrections,
a retraction, cancelled and uncommitted pledges, overdue and fulfilled commitments,
and month boundaries in both calendars."""

from __future__ import annotations

import datetime
from typing import Any

import asyncpg
import pytest

from server.eventstore import EventStore
from server.projections.commitments import commitment_rows
from server.projections.deliveries import Filters, deliveries_report
from server.projections.partner_record import partner_record
from server.projections.periods import Period, parse_period
from server.projections.pledges import partner_rows, pledge_rows, totals
from server.projections.reading import Answer
from server.projections.who_what_where import who_what_where
from tests.projections.helpers import append, by, catch_up, reader
from tests.projections.scenario import C1, C2, C3, C4, C5, C6, D6, EVENTS, P1, P2, P3, P4

ON = datetime.date(2025, 11, 1)


@pytest.fixture
async def world(store: EventStore, pool: asyncpg.Pool) -> asyncpg.Pool:
    await append(store, EVENTS)
    await catch_up(pool)
    return pool


def filters(
    calendar: str = "gregorian", first: str | None = None, last: str | None = None, **kw: Any
) -> Filters:
    return Filters(period=parse_period(calendar, first, last), **kw)


async def deliveries(pool: asyncpg.Pool, groups: list[str], f: Filters) -> Answer[Any]:
    return await reader(pool).read(
        "deliveries", lambda conn, names: deliveries_report(conn, names, groups, f)
    )


def figures(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(row[c] for c in ("deliveries", "women", "men", "girls", "boys", "other", "total"))


async def test_deliveries_by_gregorian_month_reflect_corrections_and_retractions(
    world: asyncpg.Pool,
) -> None:
    answer = await deliveries(world, ["month"], filters())
    assert answer.as_of_position == len(EVENTS)
    rows = by(answer.body, "month")
    # D6 (corrected to 6/5/0/0), D1, then D2 (moved into October) + D3 (cells) + D4;
    # D5 was retracted and counts nowhere
    assert figures(rows["2025-08"]) == (1, 6, 5, 0, 0, 0, 11)
    assert figures(rows["2025-09"]) == (1, 12, 9, 20, 18, 0, 59)
    assert figures(rows["2025-10"]) == (3, 44, 5, 22, 24, 3, 98)
    assert rows["2025-10"]["month_label_en"] == "October 2025"
    assert rows["2025-10"]["month_label_fa"] == "اکتبر ۲۰۲۵"


async def test_deliveries_by_jalali_month_cross_gregorian_month_boundaries(
    world: asyncpg.Pool,
) -> None:
    rows = by((await deliveries(world, ["month"], filters("jalali"))).body, "month")
    assert list(rows) == ["1404-06", "1404-07", "1404-08"]
    # Shahrivar holds late August (D6) and September (D1)
    assert figures(rows["1404-06"]) == (2, 18, 14, 20, 18, 0, 70)
    # Gregorian October splits: D2 and D3 in Mehr, D4 in Aban
    assert figures(rows["1404-07"]) == (2, 14, 5, 7, 9, 3, 38)
    assert figures(rows["1404-08"]) == (1, 30, 0, 15, 15, 0, 60)
    assert (rows["1404-07"]["month_label_fa"], rows["1404-07"]["month_label_en"]) == (
        "مهر ۱۴۰۴",
        "Mehr 1404",
    )


async def test_period_filters_read_months_in_the_chosen_calendar(world: asyncpg.Pool) -> None:
    mehr = (await deliveries(world, [], filters("jalali", "1404-07", "1404-07"))).body
    assert [figures(r) for r in mehr] == [(2, 14, 5, 7, 9, 3, 38)]
    october = (await deliveries(world, [], filters("gregorian", "2025-10", "2025-10"))).body
    assert [figures(r) for r in october] == [(3, 44, 5, 22, 24, 3, 98)]
    nothing = (await deliveries(world, [], filters("gregorian", "2024-01", "2024-12"))).body
    assert [figures(r) for r in nothing] == [(0, 0, 0, 0, 0, 0, 0)]


async def test_deliveries_group_by_any_columns(world: asyncpg.Pool) -> None:
    rows = (await deliveries(world, ["partner", "site", "sector"], filters())).body
    assert {(r["partner_id"], r["site_id"], r["sector"]): r["total"] for r in rows} == {
        ("ayandeh", "shahriar", "health"): 60,
        ("nrc", "gol-tappeh", "education"): 97,
        ("nrc", "gol-tappeh", "legal_aid"): 11,  # corrected from shahriar
    }
    by_site = (await deliveries(world, ["site"], filters(sector="education"))).body
    assert [(r["site_id"], r["total"]) for r in by_site] == [("gol-tappeh", 97)]


async def test_who_what_where_names_partners_sites_and_activities(world: asyncpg.Pool) -> None:
    answer = await reader(world).read(
        "who-what-where", lambda conn, names: who_what_where(conn, names, filters())
    )
    rows = by(answer.body, "partner_id", "sector", "site_id")
    education = rows[("nrc", "education", "gol-tappeh")]
    assert education["activities"] == ["Homework club", "Literacy classes"]
    assert figures(education) == (3, 26, 14, 27, 27, 3, 97)
    assert (education["date_start"], education["date_end"]) == ("2025-09-01", "2025-10-31")
    assert education["partner_name_en"] == "Norwegian Refugee Council"
    assert (education["province"], education["county"]) == ("Tehran", "Varamin")
    assert education["sector_label_fa"] == "آموزش"
    health = rows[("ayandeh", "health", "shahriar")]
    assert (health["site_name_en"], health["partner_name_fa"]) == ("Shahriar center", "آینده")
    jalali = await reader(world).read(
        "who-what-where", lambda conn, names: who_what_where(conn, names, filters("jalali"))
    )
    # in Jalali months the same rows cover 1404-06-01 .. 1404-07-30
    education = by(jalali.body, "partner_id", "sector")[("nrc", "education")]
    assert (education["date_start"], education["date_end"]) == ("2025-08-23", "2025-10-22")


async def test_a_correction_replaces_only_the_fields_it_carries(world: asyncpg.Pool) -> None:
    row = await world.fetchrow("SELECT * FROM readmodel.deliveries WHERE delivery_id = $1", D6)
    assert row["site_id"] == "gol-tappeh"  # corrected
    assert row["activity"] == "Legal counselling"  # untouched
    assert row["pledge_id"] is None  # set by one correction, cleared by the next
    assert (row["women"], row["men"], row["total"]) == (6, 5, 11)


async def test_pledges_per_pledge_and_per_partner_keep_money_exact(world: asyncpg.Pool) -> None:
    answer = await reader(world).read(
        "pledges", lambda conn, names: pledge_rows(conn, names, Period(), None)
    )
    rows = by(answer.body, "pledge_id")
    p1 = rows[P1]
    assert (p1["status"], p1["pledged"], p1["committed"], p1["disbursed"]) == (
        "committed",
        "250000.00",
        "250000.00",
        "75000.50",  # the USD disbursement is not added to a EUR pledge
    )
    assert (p1["outstanding"], p1["fulfilment_percent"], p1["disbursements"]) == (
        "174999.50",
        "30.0",
        2,
    )
    p2 = rows[P2]
    assert (p2["status"], p2["currency"], p2["pledged"], p2["committed"]) == (
        "uncommitted",
        "IRR",
        "1000000000",  # rials, as posted
        "0",
    )
    p3 = rows[P3]
    assert (p3["pledged"], p3["disbursed"], p3["outstanding"], p3["fulfilment_percent"]) == (
        "60000.00",  # amended up from 40000
        "60000.00",
        "0.00",
        "100.0",
    )
    p4 = rows[P4]
    assert (p4["status"], p4["committed"], p4["outstanding"]) == ("cancelled", "0.00", "0.00")

    by_partner = (
        await reader(world).read(
            "pledges", lambda conn, names: partner_rows(conn, names, Period(), None)
        )
    ).body
    sums = totals(by_partner)
    # committed pledges only: P1 and P3
    assert sums["committed"] == [
        {
            "currency": "EUR",
            "pledges": 2,
            "pledged": "310000.00",
            "committed": "310000.00",
            "disbursed": "135000.50",
            "outstanding": "174999.50",
            "fulfilment_percent": "43.5",
        }
    ]
    assert [(r["currency"], r["pledges"], r["pledged"]) for r in sums["uncommitted"]] == [
        ("IRR", 1, "1000000000")
    ]
    assert [(r["currency"], r["pledged"], r["disbursed"]) for r in sums["cancelled"]] == [
        ("EUR", "10000.00", "2000.00")
    ]
    assert [(r["partner_id"], r["currency"], r["status"]) for r in by_partner] == [
        ("ayandeh", "EUR", "committed"),
        ("nrc", "EUR", "committed"),
        ("nrc", "IRR", "uncommitted"),
        ("unhcr", "EUR", "cancelled"),
    ]


async def commitments(pool: asyncpg.Pool, **kw: Any) -> list[dict[str, Any]]:
    answer = await reader(pool).read(
        "commitments", lambda conn, names: commitment_rows(conn, names, on=ON, **kw)
    )
    return answer.body


async def test_commitments_overdue_is_open_and_past_due_on_the_day_asked(
    world: asyncpg.Pool,
) -> None:
    every = by(await commitments(world), "commitment_id")
    assert {k: (r["status"], r["overdue"]) for k, r in every.items()} == {
        C1: ("open", True),
        C2: ("open", False),
        C3: ("fulfilled", False),  # its due date passed, but it was done
        C4: ("withdrawn", False),
        C5: ("open", True),
        C6: ("open", False),  # due today: not yet overdue
    }
    overdue = await commitments(world, status="overdue")
    assert [(r["commitment_id"], r["days_overdue"]) for r in overdue] == [(C1, 17), (C5, 1)]
    assert {r["commitment_id"] for r in await commitments(world, status="open")} == {
        C1,
        C2,
        C5,
        C6,
    }
    assert [r["commitment_id"] for r in await commitments(world, status="fulfilled")] == [C3]
    assert [r["commitment_id"] for r in await commitments(world, status="withdrawn")] == [C4]
    mine = await commitments(world, owner="nrc", status="open")
    assert [(r["commitment_id"], r["percent"]) for r in mine] == [(C1, None), (C2, 40)]
    assert every[C3]["closed_on"] is not None


async def test_partner_record_gathers_one_partners_work(world: asyncpg.Pool) -> None:
    answer = await reader(world).read(
        "partner", lambda conn, names: partner_record(conn, names, "nrc", filters(), ON)
    )
    record = answer.body
    assert record is not None
    assert record["partner"]["name_en"] == "Norwegian Refugee Council"
    assert figures(record["deliveries_total"]) == (4, 32, 19, 27, 27, 3, 108)
    assert {r["pledge_id"] for r in record["pledges"]["rows"]} == {P1, P2}
    assert [r["commitment_id"] for r in record["commitments"]] == [C1, C2]
    assert [c["description"] for c in record["challenges"]] == [
        "Families cannot pay transport for girls to attend"
    ]
    [meeting] = record["meetings"]
    assert meeting["presented"] == [
        {
            "summary": "Literacy classes reached 59 learners in March",
            "challenges": ["Transport", "Fees"],
        }
    ]
    # a period narrows every part
    october = await reader(world).read(
        "partner",
        lambda conn, names: partner_record(
            conn, names, "nrc", filters("gregorian", "2025-10", "2025-10"), ON
        ),
    )
    assert october.body is not None
    assert figures(october.body["deliveries_total"]) == (2, 14, 5, 7, 9, 3, 38)
    assert [r["commitment_id"] for r in october.body["commitments"]] == [C1]
    missing = await reader(world).read(
        "partner", lambda conn, names: partner_record(conn, names, "nobody", filters(), ON)
    )
    assert missing.body is None
