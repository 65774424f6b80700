"""The app with its lifespan running, a client, and a token per role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth.tokens import issue
from server.config import Settings
from tests.builders import BUILDERS

ROLES = {
    "admin": ("admin", None),
    "coordinator": ("coordinator", None),
    "auditor": ("auditor", None),
    "nrc": ("partner", "nrc"),
    "ayandeh": ("partner", "ayandeh"),
}


@pytest.fixture
async def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
async def tokens(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        return {
            name: await issue(conn, name=f"test-{name}", role=role, partner_id=partner)
            for name, (role, partner) in ROLES.items()
        }
    finally:
        await conn.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ev(
    type_name: str, *, id: str | None = None, expected_version: int | None = None, **fields: Any
) -> dict[str, Any]:
    """An event envelope with valid data for `type_name`, fields overridden."""
    body: dict[str, Any] = {"type": type_name, "data": BUILDERS[type_name](**fields)}
    if id is not None:
        body["id"] = id
    if expected_version is not None:
        body["expected_version"] = expected_version
    return body


class Api:
    """Posting and reading as a given role, for tests that read like the contract."""

    def __init__(self, client: AsyncTestClient[Litestar], tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    async def post(self, who: str, body: Any, **kwargs: Any) -> Any:
        headers = {**bearer(self.tokens[who]), **kwargs.pop("headers", {})}
        return await self.client.post("/v1/events", json=body, headers=headers, **kwargs)

    async def get(self, who: str, url: str, **kwargs: Any) -> Any:
        headers = {**bearer(self.tokens[who]), **kwargs.pop("headers", {})}
        return await self.client.get(url, headers=headers, **kwargs)

    async def count(self) -> int:
        response = await self.get("auditor", "/v1/events?limit=10000")
        assert response.status_code == 200, response.text
        return len(response.json()["events"])

    async def setup_world(self) -> None:
        """Partners nrc, ayandeh, bafia and site gol-tappeh, as most scenarios need."""
        response = await self.post(
            "admin",
            [
                ev("PartnerRegistered", partner_id="nrc"),
                ev(
                    "PartnerRegistered",
                    partner_id="ayandeh",
                    name_en="Ayandeh",
                    kind="national_ngo",
                ),
                ev("PartnerRegistered", partner_id="bafia", name_en="BAFIA", kind="directorate"),
                ev("SiteRegistered", site_id="gol-tappeh"),
            ],
        )
        assert response.status_code == 201, response.text


@pytest.fixture
async def api(client: AsyncTestClient[Litestar], tokens: dict[str, str]) -> Api:
    return Api(client, tokens)
