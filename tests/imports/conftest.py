"""The app, a token per role and a world to import into (partners nrc, ayandeh and
bafia, site gol-tappeh), with helpers that upload a file and count the log."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.imports.reading import CSV, XLSX
from tests.api.conftest import Api, app, bearer, client, tokens

__all__ = ["app", "client", "tokens"]

FA_HEADER = ["محل", "بخش", "فعالیت", "شروع دوره", "پایان دوره", "زنان", "مردان", "دختران", "پسران"]
EN_HEADER = [
    *("Site", "Sector", "Activity", "Period start", "Period end"),
    *("women", "men", "girls", "boys"),
]


def csv_file(rows: list[list[Any]], header: list[str] = EN_HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def delivery(
    activity: str = "Literacy classes",
    women: Any = 12,
    *,
    site: str = "gol-tappeh",
    sector: str = "education",
    start: str = "2025-03-01",
    end: str = "2025-03-31",
    men: Any = 9,
    girls: Any = 20,
    boys: Any = 18,
) -> list[Any]:
    return [site, sector, activity, start, end, women, men, girls, boys]


class Importer(Api):
    async def upload(
        self,
        who: str,
        body: bytes,
        *,
        type: str = "ServiceDelivered",
        dry_run: bool = False,
        media: str = CSV,
    ) -> Any:
        return await self.client.post(
            f"/v1/imports?type={type}&dry_run={'true' if dry_run else 'false'}",
            content=body,
            headers={**bearer(self.tokens[who]), "Content-Type": media},
        )

    async def log_types(self) -> list[str]:
        response = await self.get("auditor", "/v1/events?limit=10000")
        return [e["type"] for e in response.json()["events"]]


@pytest.fixture
async def importer(client: AsyncTestClient[Litestar], tokens: dict[str, str]) -> Importer:
    world = Importer(client, tokens)
    await world.setup_world()
    return world


XLSX_MEDIA = XLSX
