"""Planned vs reached: targets (as last set) spread over their periods by days, against
the beneficiaries delivered; reporting completeness for a month; the same answers from a
rebuild and, at a past position, from the fold."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth.tokens import issue
from server.config import Settings
from server.eventstore import EventStore
from server.projections.catalog import PROJECTIONS
from server.projections.deliveries import Filters
from server.projections.periods import Period, parse_period
from server.projections.rebuild import rebuild
from server.projections.targets import completeness_rows, progress_rows
from tests import builders as b
from tests.projections.helpers import append, by, catch_up, reader, table_contents
from tests.projections.test_api import Client, fast

T1 = "5e7d9c3b-1a2f-4e6d-8c0b-9a8f7e6d5c4b"
T2 = "6f8e0d4c-2b3a-4f7e-9d1c-0b9a8f7e6d5c"

SETUP = [
    ("PartnerRegistered", b.partner_registered("nrc")),
    ("PartnerRegistered", b.partner_registered("bafia", kind="directorate", country="IR")),
    ("PartnerRegistered", b.partner_registered("drc", kind="international_ngo", country="DK")),
    ("SiteRegistered", b.site_registered("gol-tappeh")),
    # nrc plans 310 girls and boys in education at gol-tappeh over January to May 2025
    # (151 days: March is 31 of them, so 310 * 31/151 = 63.6 are planned for March)
    (
        "TargetSet",
        b.target_set(
            T1,
            period_start="2025-01-01",
            period_end="2025-05-31",
            beneficiaries={"women": 0, "men": 0, "girls": 160, "boys": 150},
        ),
    ),
    # bafia plans 90 in health, no site, over March only
    (
        "TargetSet",
        b.target_set(
            T2,
            partner_id="bafia",
            sector="health",
            site_id=None,
            activity=None,
            period_start="2025-03-01",
            period_end="2025-03-31",
            beneficiaries={"women": 50, "men": 40, "girls": 0, "boys": 0},
        ),
    ),
    # March: nrc reaches 59 in education (the builders' short form)
    ("ServiceDelivered", b.service_delivered()),
]
# bafia halves its target: the replacement counts, the first target no longer does
REPLACED = (
    "TargetSet",
    b.target_set(
        T2,
        partner_id="bafia",
        sector="health",
        site_id=None,
        period_start="2025-03-01",
        period_end="2025-03-31",
        beneficiaries={"women": 25, "men": 20, "girls": 0, "boys": 0},
    ),
)


@pytest.fixture
async def world(store: EventStore, pool: asyncpg.Pool) -> asyncpg.Pool:
    await append(store, SETUP)
    await append(store, [REPLACED])
    await catch_up(pool)
    return pool


async def progress(pool: asyncpg.Pool, groups: list[str], f: Filters, at: int | None = None) -> Any:
    return await reader(pool).read(
        "progress", lambda conn, names: progress_rows(conn, names, groups, f), at=at
    )


def march() -> Filters:
    return Filters(period=parse_period("gregorian", "2025-03", "2025-03"))


async def test_planned_is_spread_by_days_and_reached_is_delivered(world: asyncpg.Pool) -> None:
    rows = by((await progress(world, ["partner", "sector"], march())).body, "partner_id")
    assert (rows["nrc"]["planned"], rows["nrc"]["reached"]) == (64, 59)
    assert rows["nrc"]["reached_percent"] == "92.2"
    # the replacement's 45, not the first 90; nothing reached
    assert (rows["bafia"]["planned"], rows["bafia"]["reached"]) == (45, 0)
    assert rows["bafia"]["reached_percent"] == "0.0"


async def test_all_time_plans_whole_targets(world: asyncpg.Pool) -> None:
    rows = by((await progress(world, ["partner"], Filters())).body, "partner_id")
    assert rows["nrc"]["planned"] == 310 and rows["bafia"]["planned"] == 45
    assert "drc" not in rows  # no target and no delivery: no row


async def test_by_month_each_month_takes_its_days(world: asyncpg.Pool) -> None:
    f = Filters(period=Period(), partner="nrc")
    rows = by((await progress(world, ["month"], f)).body, "month")
    assert list(rows) == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
    assert [r["planned"] for r in rows.values()] == [64, 57, 64, 62, 64]
    assert rows["2025-03"]["reached"] == 59 and rows["2025-01"]["reached_percent"] == "0.0"
    assert rows["2025-03"]["month_label_en"] == "March 2025"


async def test_a_target_without_a_site_is_planned_under_no_site(world: asyncpg.Pool) -> None:
    rows = by((await progress(world, ["partner", "site"], march())).body, "partner_id", "site_id")
    assert rows[("bafia", None)]["planned"] == 45
    assert rows[("nrc", "gol-tappeh")]["reached"] == 59


async def test_nothing_planned_means_no_percentage(store: EventStore, pool: asyncpg.Pool) -> None:
    await append(store, [s for s in SETUP if s[0] != "TargetSet"])
    await catch_up(pool)
    [row] = (await progress(pool, ["partner"], march())).body
    assert (row["planned"], row["reached"], row["reached_percent"]) == (0, 59, None)


async def test_completeness_names_the_active_partners_that_did_not_report(
    world: asyncpg.Pool,
) -> None:
    async def query(conn: Any, names: Any) -> Any:
        return await completeness_rows(conn, names, 202503, Period())

    rows = by((await reader(world).read("progress", query)).body, "partner_id")
    assert {p: r["reported"] for p, r in rows.items()} == {
        "bafia": False,
        "drc": False,
        "nrc": True,
    }
    assert rows["nrc"]["total"] == 59 and rows["bafia"]["has_target"]
    assert not rows["drc"]["has_target"]


async def test_at_a_past_position_the_first_target_counts(world: asyncpg.Pool) -> None:
    before_replacement = len(SETUP)
    rows = by(
        (await progress(world, ["partner"], march(), at=before_replacement)).body, "partner_id"
    )
    assert rows["bafia"]["planned"] == 90


async def test_a_rebuild_gives_the_targets_the_runner_built(world: asyncpg.Pool) -> None:
    live = await table_contents(world)
    assert len(live["targets"]) == 2
    await rebuild(world, [PROJECTIONS["targets"]])
    assert await table_contents(world) == live


# --- through the API ------------------------------------------------------------------


@pytest.fixture
async def client(settings: Settings, database_url: str) -> AsyncIterator[Client]:
    conn = await asyncpg.connect(database_url)
    try:
        token = await issue(conn, name="test-auditor", role="auditor", partner_id=None)
    finally:
        await conn.close()
    async with AsyncTestClient(create_app(fast(settings))) as api:
        api.headers.update({"Authorization": f"Bearer {token}"})
        yield api


async def test_the_progress_report_over_http_in_json_csv_and_at_a_position(
    client: Client, store: EventStore
) -> None:
    recorded = await append(store, SETUP)
    last = await append(store, [REPLACED])
    first_set = recorded[-1].position
    params = {"group_by": "partner,sector", "from": "2025-03", "to": "2025-03"}
    response = await client.get(
        "/v1/reports/progress", params={**params, "min_position": last[0].position}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of_position"] == last[0].position and body["group_by"] == ["partner", "sector"]
    rows = by(body["rows"], "partner_id")
    assert (rows["bafia"]["planned"], rows["nrc"]["reached_percent"]) == (45, "92.2")
    then = await client.get("/v1/reports/progress", params={**params, "at_position": first_set})
    assert by(then.json()["rows"], "partner_id")["bafia"]["planned"] == 90
    hxl = await client.get("/v1/reports/progress", params={**params, "format": "hxl"})
    lines = hxl.text.splitlines()
    assert lines[0] == "partner_id,sector,planned,reached,reached_percent"
    assert (
        lines[1]
        == "#org+impl+code,#sector+code,#targeted+total,#reached+total,#indicator+reached+pct"
    )
    complete = await client.get(
        "/v1/reports/progress",
        params={"view": "completeness", "month": "1404-01", "calendar": "jalali"},
    )
    assert complete.status_code == 200, complete.text
    assert {r["partner_id"]: r["reported"] for r in complete.json()["rows"]} == {
        "bafia": False,
        "drc": False,
        "nrc": True,  # 1404-01 (Farvardin) runs 21 March to 20 April: the delivery ends 31 March
    }


@pytest.mark.parametrize(
    "params",
    [
        {"group_by": "partner,planet"},
        {"view": "everything"},
        {"view": "completeness"},
        {"view": "completeness", "month": "2025-13"},
        {"from": "2025-3"},
    ],
)
async def test_bad_progress_parameters_are_400(client: Client, params: dict[str, str]) -> None:
    response = await client.get("/v1/reports/progress", params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
