"""Spreadsheet imports: a 10,000-row XLSX of one partner's deliveries, dry run and
commit, beside `POST /v1/events` batches of the same events, in one run.

Each figure gets a fresh database with the demo record (the partner, its sites) and
an app in this process with its lifespan running, called through litestar's test
client: the same code a served request runs, without the HTTP server's share (the
http section measures that)."""

from __future__ import annotations

import io
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import Workbook

from bench.harness import Cluster
from server.app import create_app
from server.cli.demo import load
from server.config import Settings
from server.imports.reading import XLSX

ROWS = 10_000
HEADER = [
    *("site_id", "sector", "activity", "period_start", "period_end"),
    *("women", "men", "girls", "boys"),
]
BATCH = 1_000  # the API's largest batch


def delivery_rows(count: int) -> list[list[Any]]:
    """One month of classes at one centre, each row its own delivery (its own activity)."""
    return [
        ["gol-tappeh", "education", f"Class {i}", "2026-09-01", "2026-09-30", 3, 2, 7, 6]
        for i in range(count)
    ]


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def envelopes(rows: list[list[Any]]) -> list[dict[str, Any]]:
    """The same deliveries as a partner's system would post them."""
    return [
        {
            "type": "ServiceDelivered",
            "id": str(uuid.uuid4()),
            "data": {
                "delivery_id": str(uuid.uuid4()),
                "partner_id": "nrc",
                **dict(zip(HEADER[:5], row[:5], strict=True)),
                "beneficiaries": dict(zip(HEADER[5:], row[5:], strict=True)),
                "free_of_charge": True,
            },
        }
        for row in rows
    ]


@asynccontextmanager
async def demo_app(cluster: Cluster) -> AsyncIterator[tuple[AsyncTestClient[Litestar], str]]:
    """An app over a fresh database with the demo record, and NRC's token."""
    dsn = await cluster.fresh_database()
    with tempfile.TemporaryDirectory(prefix="hamkari-bench-imports-") as data_dir:
        settings = Settings(database_url=dsn, data_dir=data_dir)
        _appended, _replayed, tokens = await load(dsn, settings, {})
        async with AsyncTestClient(app=create_app(settings), timeout=600) as client:
            yield client, tokens["demo-nrc"]


def line(name: str, rows: int, seconds: float) -> str:
    return f"  {name:<52} {seconds:>8.2f} s  {rows / seconds:>9,.0f} rows/s"


async def run(cluster: Cluster, scale: float) -> list[str]:
    count = max(100, int(ROWS * min(scale, 1.0)))  # 10,000 rows is the import's limit
    rows = delivery_rows(count)
    xlsx = workbook(rows)
    lines = [f"imports: {count:,} deliveries, XLSX of {len(xlsx) / 1024:,.0f} KiB"]

    async with demo_app(cluster) as (client, token):
        auth = {"Authorization": f"Bearer {token}", "Content-Type": XLSX}
        figures = {}
        for dry_run in ("true", "false"):
            started = time.perf_counter()
            response = await client.post(
                f"/v1/imports?type=ServiceDelivered&dry_run={dry_run}", content=xlsx, headers=auth
            )
            figures[dry_run] = time.perf_counter() - started
            assert response.status_code in (200, 201), response.text[:500]
            assert response.json()["new"] == count, response.text[:500]
        started = time.perf_counter()
        again = await client.post(
            "/v1/imports?type=ServiceDelivered&dry_run=false", content=xlsx, headers=auth
        )
        unchanged = time.perf_counter() - started
        assert again.status_code == 200 and again.json()["unchanged"] == count
    lines.append(line("XLSX import, dry run", count, figures["true"]))
    lines.append(line("XLSX import, commit (all or nothing)", count, figures["false"]))
    lines.append(line("XLSX import, the same file again (appends nothing)", count, unchanged))

    async with demo_app(cluster) as (client, token):
        auth = {"Authorization": f"Bearer {token}"}
        posted = envelopes(rows)
        started = time.perf_counter()
        for first in range(0, count, BATCH):
            response = await client.post(
                "/v1/events", json=posted[first : first + BATCH], headers=auth
            )
            assert response.status_code == 201, response.text[:500]
        batches = time.perf_counter() - started
    lines.append(line(f"POST /v1/events, batches of {BATCH:,}, same events", count, batches))
    lines.append(f"  import commit / batched posts: {figures['false'] / batches:.2f}x the time")
    return lines
