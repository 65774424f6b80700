"""What every sub-command shares: running a coroutine against the owner connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from server.config import Settings
from server.database.migrate import migrate
from server.database.pool import connect_owner
from server.database.roles import ensure_password
from server.database.runtime import database_url

T = TypeVar("T")


async def migrate_dsn(dsn: str, settings: Settings) -> list[str]:
    """Migrate as the owner; the app role's password is the data directory's (made on
    first use) unless the operator manages that role (HAMKARI_APP_DATABASE_URL)."""
    password = None if settings.app_database_url else ensure_password(settings)
    conn = await connect_owner(dsn)
    try:
        return await migrate(conn, app_role=settings.app_role, app_password=password)
    finally:
        await conn.close()


def with_owner(settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run `work` on an owner connection to a migrated database, then clean up."""

    async def run(dsn: str) -> T:
        await migrate_dsn(dsn, settings)
        conn = await connect_owner(dsn)
        try:
            return await work(conn)
        finally:
            await conn.close()

    with database_url(settings) as dsn:
        return asyncio.run(run(dsn))
