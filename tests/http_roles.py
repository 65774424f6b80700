"""Helpers for tests that talk to the app as several roles: a header per role, event
envelopes from the builders, and a post that must succeed."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.auth.tokens import issue
from tests.builders import BUILDERS

Client = AsyncTestClient[Litestar]

ROLES = {
    "admin": ("admin", None),
    "coordinator": ("coordinator", None),
    "auditor": ("auditor", None),
    "nrc": ("partner", "nrc"),
}


async def role_headers(database_url: str) -> dict[str, dict[str, str]]:
    """An Authorization header for each of ROLES, from freshly issued tokens."""
    conn = await asyncpg.connect(database_url)
    try:
        return {
            who: {"Authorization": "Bearer " + await issue(conn, name=who, role=role, partner_id=p)}
            for who, (role, p) in ROLES.items()
        }
    finally:
        await conn.close()


def event(type_name: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_name, "data": BUILDERS[type_name](**fields)}


async def post(client: Client, auth: dict[str, str], body: Any) -> Any:
    response = await client.post("/v1/events", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()
