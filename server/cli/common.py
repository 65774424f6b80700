"""What every sub-command shares: running a coroutine against the owner connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from server.config import Settings
from server.database.migrate import migrate
from server.database.pool import connect_owner
from server.database.runtime import database_url

T = TypeVar("T")


async def migrate_dsn(dsn: str) -> list[str]:
    conn = await connect_owner(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def with_owner(settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run `work` on an owner connection to a migrated database, then clean up."""

    async def run(dsn: str) -> T:
        await migrate_dsn(dsn)
        conn = await connect_owner(dsn)
        try:
            return await work(conn)
        finally:
            await conn.close()

    with database_url(settings) as dsn:
        return asyncio.run(run(dsn))
