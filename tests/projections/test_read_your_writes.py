"""Over HTTP, as a partner and a coordinator use it: post, then read the report at once
with the receipt's position (`?min_position=`), as JSON and CSV, in Solar Hijri months
with Persian and English labels; who may operate the projections."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.config import Settings
from tests.builders import short_form
from tests.http_roles import ROLES, Client, event, post, role_headers


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    fast = msgspec.structs.replace(settings, poll_interval=0.1, projection_lock_retry=0.1)
    async with AsyncTestClient(create_app(fast)) as client:
        yield client


@pytest.fixture
async def tokens(database_url: str) -> dict[str, dict[str, str]]:
    return await role_headers(database_url)


def delivered(period_end: str, women: int) -> dict[str, Any]:
    return event(
        "ServiceDelivered",
        period_start="2025-10-01",
        period_end=period_end,
        beneficiaries=short_form(women=women, men=0, girls=0, boys=0),
    )


async def test_a_partner_reads_its_post_at_once_in_jalali_months_as_json_and_csv(
    client: Client, tokens: dict[str, dict[str, str]]
) -> None:
    nrc = tokens["nrc"]
    await post(client, tokens["admin"], [event("PartnerRegistered"), event("SiteRegistered")])
    # 2025-10-22 is the last day of Mehr 1404, 2025-10-25 in Aban: one Gregorian month,
    # two Jalali months
    receipts = await post(client, nrc, [delivered("2025-10-22", 5), delivered("2025-10-25", 7)])
    position = receipts[-1]["position"]

    query = {"group_by": "month", "calendar": "jalali", "min_position": position}
    response = await client.get("/v1/reports/deliveries", params=query, headers=nrc)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of_position"] >= position  # the post is in, without polling
    assert [
        (r["month"], r["month_label_fa"], r["month_label_en"], r["women"], r["deliveries"])
        for r in body["rows"]
    ] == [
        ("1404-07", "مهر ۱۴۰۴", "Mehr 1404", 5, 1),
        ("1404-08", "آبان ۱۴۰۴", "Aban 1404", 7, 1),
    ]
    gregorian = await client.get(
        "/v1/reports/deliveries", params={"group_by": "month"}, headers=nrc
    )
    assert [
        (r["month"], r["month_label_fa"], r["month_label_en"], r["women"])
        for r in gregorian.json()["rows"]
    ] == [("2025-10", "اکتبر ۲۰۲۵", "October 2025", 12)]

    as_csv = await client.get(
        "/v1/reports/deliveries", params={**query, "format": "csv"}, headers=nrc
    )
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert int(as_csv.headers["x-as-of-position"]) >= position
    table = list(csv.reader(io.StringIO(as_csv.text)))
    assert table[0] == [
        "month", "month_label_fa", "month_label_en",
        "deliveries", "women", "men", "girls", "boys", "other", "total",
    ]  # fmt: skip
    assert table[1:] == [
        ["1404-07", "مهر ۱۴۰۴", "Mehr 1404", "1", "5", "0", "0", "0", "0", "5"],
        ["1404-08", "آبان ۱۴۰۴", "Aban 1404", "1", "7", "0", "0", "0", "0", "7"],
    ]
    # one Jalali month asked for by name: only Aban's delivery
    aban = await client.get(
        "/v1/reports/deliveries",
        params={
            "group_by": "partner,month",
            "calendar": "jalali",
            "from": "1404-08",
            "to": "1404-08",
        },
        headers=nrc,
    )
    assert [(r["partner_id"], r["month"], r["total"]) for r in aban.json()["rows"]] == [
        ("nrc", "1404-08", 7)
    ]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/v1/reports/deliveries", {"nrc", "coordinator", "auditor", "admin"}),
        ("GET", "/v1/admin/projections", {"coordinator", "auditor", "admin"}),
        ("POST", "/v1/admin/projections/deliveries/rebuild", {"admin"}),
    ],
)
async def test_who_may_read_reports_and_operate_projections(
    client: Client,
    tokens: dict[str, dict[str, str]],
    method: str,
    path: str,
    allowed: set[str],
) -> None:
    for who in ("anonymous", *ROLES):
        response = await client.request(method, path, headers=tokens.get(who, {}))
        if who in allowed:
            assert response.status_code in (200, 202), (who, response.text)
        else:
            assert response.status_code == (401 if who == "anonymous" else 403), (who, path)
