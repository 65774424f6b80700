"""The reports and the projections' admin endpoints through the app, lifespan running:
JSON, CSV and HXL, calendars, read-your-writes, time travel, problems for bad input."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth.tokens import issue
from server.config import Settings
from server.eventstore import EventStore
from tests import builders as b
from tests.projections.helpers import append, new_event
from tests.projections.scenario import EVENTS, STEPS

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def headers(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        token = await issue(conn, name="test-admin", role="admin", partner_id=None)
    finally:
        await conn.close()
    return {"Authorization": f"Bearer {token}"}


def fast(settings: Settings, **changes: Any) -> Settings:
    return msgspec.structs.replace(
        settings, poll_interval=0.1, projection_lock_retry=0.1, **changes
    )


@pytest.fixture
async def client(settings: Settings, headers: dict[str, str]) -> AsyncIterator[Client]:
    async with AsyncTestClient(create_app(fast(settings))) as client:
        client.headers.update(headers)
        yield client


async def get(client: Client, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response


async def test_who_what_where_after_my_write_as_json_csv_and_hxl(
    client: Client, store: EventStore
) -> None:
    receipts = await append(store, EVENTS)
    head = receipts[-1].position
    path = "/v1/reports/who-what-where"
    body = (await get(client, path, min_position=head)).json()
    assert body["as_of_position"] == head
    rows = {(r["partner_id"], r["sector"], r["site_id"]): r for r in body["rows"]}
    assert rows[("nrc", "education", "gol-tappeh")]["total"] == 97

    response = await get(client, path, format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0][:3] == ["partner_id", "partner_name_en", "partner_name_fa"]
    assert len(table) == 1 + len(body["rows"])
    record = dict(
        zip(table[0], table[1 + list(rows).index(("nrc", "education", "gol-tappeh"))], strict=True)
    )
    assert record["activities"] == "Homework club; Literacy classes"
    assert (record["total"], record["site_name_fa"]) == ("97", "مرکز چندمنظوره گل‌تپه")

    hxl = list(csv.reader(io.StringIO((await get(client, path, format="hxl")).text)))
    assert hxl[0] == table[0] and hxl[2:] == table[1:]
    tags = dict(zip(hxl[0], hxl[1], strict=True))
    assert tags["partner_id"].startswith("#org+impl")
    assert tags["sector"].startswith("#sector")
    assert tags["province"] == "#adm1+name"
    assert tags["site_name_en"].startswith("#loc+name")
    assert (tags["date_start"], tags["date_end"]) == ("#date+start", "#date+end")
    assert (tags["women"], tags["men"]) == ("#reached+f+adults", "#reached+m+adults")
    assert (tags["girls"], tags["boys"]) == ("#reached+f+children", "#reached+m+children")
    assert tags["total"] == "#reached+total"


async def test_deliveries_in_jalali_months_with_labels(client: Client, store: EventStore) -> None:
    head = (await append(store, EVENTS))[-1].position
    body = (
        await get(
            client,
            "/v1/reports/deliveries",
            group_by="month,sector",
            calendar="jalali",
            min_position=head,
        )
    ).json()
    assert body["group_by"] == ["sector", "month"]
    mehr = [r for r in body["rows"] if r["month"] == "1404-07"]
    assert [(r["sector"], r["total"], r["month_label_fa"]) for r in mehr] == [
        ("education", 38, "مهر ۱۴۰۴")
    ]
    only_aban = (
        await get(
            client,
            "/v1/reports/deliveries",
            group_by="",
            calendar="jalali",
            **{"from": "1404-08", "to": "1404-08"},
        )
    ).json()
    assert [r["total"] for r in only_aban["rows"]] == [60]
    assert only_aban["period"]["start"] == "2025-10-23"


async def test_pledges_commitments_and_a_partners_record(client: Client, store: EventStore) -> None:
    head = (await append(store, EVENTS))[-1].position
    pledges = (await get(client, "/v1/reports/pledges", min_position=head)).json()
    assert [t["committed"] for t in pledges["totals"]] == ["310000.00"]
    assert [u["pledged"] for u in pledges["uncommitted"]] == ["1000000000"]
    assert [c["pledged"] for c in pledges["cancelled"]] == ["10000.00"]
    by_partner = (await get(client, "/v1/reports/pledges", view="partners")).json()
    assert {r["status"] for r in by_partner["rows"]} == {"committed", "uncommitted", "cancelled"}
    pledge_csv = (await get(client, "/v1/reports/pledges", format="csv")).text
    assert pledge_csv.splitlines()[0].startswith("pledge_id,partner_id,status,currency,pledged")
    # the scenario's disbursements are all dated 2025-03-15: Esfand 1403
    by_month = (
        await get(
            client,
            "/v1/reports/pledges",
            view="months",
            calendar="jalali",
            **{"from": "1403-12", "to": "1403-12"},
        )
    ).json()
    assert [(r["month"], r["currency"], r["status"], r["disbursed"]) for r in by_month["rows"]] == [
        ("1403-12", "EUR", "committed", "135000.50"),
        ("1403-12", "EUR", "cancelled", "2000.00"),
    ]
    assert [t["disbursed"] for t in by_month["totals"]] == ["135000.50"]
    assert by_month["period"]["start"] == "2025-02-19"
    month_hxl = (await get(client, "/v1/reports/pledges", view="months", format="hxl")).text
    assert month_hxl.splitlines()[1].startswith("#date+month,")

    overdue = (
        await get(
            client,
            "/v1/reports/commitments",
            status="overdue",
            on="2025-11-01",
            min_position=head,  # each report waits for its own projections
        )
    ).json()
    assert [(r["owner_partner_id"], r["days_overdue"]) for r in overdue["rows"]] == [
        ("nrc", 17),
        ("ayandeh", 1),
    ]
    record = (
        await get(client, "/v1/reports/partners/nrc", on="2025-11-01", min_position=head)
    ).json()
    assert record["deliveries_total"]["total"] == 108
    assert record["as_of_position"] == head
    missing = await client.get("/v1/reports/partners/nobody")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_at_position_on_the_wire_equals_what_was_said_then(
    client: Client, store: EventStore
) -> None:
    then = (await append(store, STEPS[0] + STEPS[1]))[-1].position
    said = (await get(client, "/v1/reports/who-what-where", min_position=then)).json()
    await append(store, STEPS[2] + STEPS[3])
    now = (await get(client, "/v1/reports/who-what-where", min_position=then + 1)).json()
    assert now != said
    past = (await get(client, "/v1/reports/who-what-where", at_position=then)).json()
    assert past == said
    empty = (await get(client, "/v1/reports/deliveries", at_position=0)).json()
    assert empty["as_of_position"] == 0 and empty["rows"] == []


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        ("who-what-where", {"calendar": "julian"}, "calendar"),
        # refused by the parameter's declared pattern, before the handler: named by it
        ("who-what-where", {"from": "2025-13"}, "from"),
        ("who-what-where", {"from": "1404-07"}, "calendar=jalali"),
        ("deliveries", {"from": "2025-10", "to": "2025-09"}, "after"),
        ("deliveries", {"group_by": "colour"}, "group_by"),
        ("deliveries", {"format": "xml"}, "format"),
        ("pledges", {"view": "donors"}, "view"),
        ("commitments", {"status": "late"}, "status"),
        ("deliveries", {"at_position": "-1"}, ""),
        ("deliveries", {"at_position": "99"}, "beyond"),
        ("deliveries", {"min_position": "99"}, "beyond"),
        ("deliveries", {"at_position": "1", "min_position": "1"}, "together"),
    ],
)
async def test_bad_report_parameters_are_400_problems(
    client: Client, path: str, params: dict[str, str], says: str
) -> None:
    response = await client.get(f"/v1/reports/{path}", params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"]


async def test_min_position_not_reached_in_time_is_503_with_retry_after(
    settings: Settings, headers: dict[str, str], store: EventStore
) -> None:
    app = create_app(fast(settings, projections_run=False, report_wait_max=0.3))
    async with AsyncTestClient(app) as client:
        client.headers.update(headers)
        head = (await append(store, STEPS[0]))[-1].position
        response = await client.get("/v1/reports/deliveries", params={"min_position": head})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert "reflects position 0" in response.json()["detail"]
        # without min_position the (stale) report is served, saying how stale
        stale = await get(client, "/v1/reports/deliveries")
        assert stale.json()["as_of_position"] == 0


async def test_admin_shows_a_stopped_projection_and_rebuilds_on_request(
    client: Client, store: EventStore
) -> None:
    await append(store, STEPS[1])
    unreadable = new_event("ServiceDelivered", b.service_delivered())
    [bad] = await store.append([msgspec.structs.replace(unreadable, schema_version=9)])
    for _ in range(100):
        listed = (await get(client, "/v1/admin/projections")).json()["projections"]
        deliveries = next(p for p in listed if p["name"] == "deliveries")
        if deliveries["error"]:
            break
        await asyncio.sleep(0.05)
    assert deliveries["error_position"] == bad.position
    assert deliveries["lag_events"] == 1 and deliveries["running"]
    stuck = await client.get("/v1/reports/deliveries", params={"min_position": bad.position})
    assert stuck.status_code == 503 and "stopped" in stuck.json()["detail"]
    warned = (await get(client, "/v1/reports/deliveries")).json()
    assert "stopped" in warned["warnings"][0]

    assert (await client.post("/v1/admin/projections/nothing/rebuild")).status_code == 404
    accepted = await client.post("/v1/admin/projections/pledges/rebuild")
    assert accepted.status_code == 202
    for _ in range(100):
        listed = (await get(client, "/v1/admin/projections")).json()["projections"]
        if next(p for p in listed if p["name"] == "pledges")["rebuilt_at"]:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the rebuild did not finish")
    # rebuilding the stopped one fails the same way and keeps its tables
    await client.post("/v1/admin/projections/deliveries/rebuild")
    for _ in range(100):
        listed = (await get(client, "/v1/admin/projections")).json()["projections"]
        deliveries = next(p for p in listed if p["name"] == "deliveries")
        if deliveries["rebuild_error"]:
            break
        await asyncio.sleep(0.05)
    assert "schema version 9" in deliveries["rebuild_error"]
