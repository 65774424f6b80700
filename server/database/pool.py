"""Connections to PostgreSQL: the server's pool, which logs in as the application role,
and the owner connections that migrations and administration use."""

from __future__ import annotations

import asyncpg
import msgspec

from server.config import Settings
from server.database.roles import app_dsn, check_app_login


async def create_pool(
    dsn: str, settings: Settings, *, min_size: int | None = None, max_size: int | None = None
) -> asyncpg.Pool:
    """A pool whose every connection logs in as the application role.

    `dsn` is the owner's; the pool logs in where `app_dsn` says, and refuses to start
    when that login is, or can become, more than the application role (a superuser's
    session could undo any `SET ROLE`). Connections go back to the pool without asyncpg's
    reset (`RESET ALL; UNLISTEN *; ...`, a round trip on every release): the server
    keeps no session state on pool connections. Advisory locks are transaction-scoped,
    settings are `SET LOCAL`, and LISTEN and session locks live on dedicated
    connections (server/eventstore/subscription.py, server/projections/host.py).
    """
    pool = await asyncpg.create_pool(
        app_dsn(dsn, settings),
        reset=_keep_session,
        min_size=settings.pool_min_size if min_size is None else min_size,
        max_size=settings.pool_max_size if max_size is None else max_size,
        server_settings={"application_name": "hamkari"},
    )
    assert pool is not None
    try:
        async with pool.acquire() as conn:
            await check_app_login(conn, settings.app_role)
    except BaseException:
        pool.terminate()
        raise
    return pool


async def create_read_pool(settings: Settings) -> asyncpg.Pool | None:
    """The pool on the hot standby (HAMKARI_READ_DATABASE_URL), None when there is none.

    It logs in as the application role there as well: HAMKARI_READ_APP_DATABASE_URL
    when the operator manages that login, else the standby's owner DSN with the role
    and the stored password (the standby replays the primary's roles)."""
    if not settings.read_database_url:
        return None
    standby = msgspec.structs.replace(settings, app_database_url=settings.read_app_database_url)
    return await create_pool(settings.read_database_url, standby)


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """The pool's reset: nothing to undo (see create_pool)."""


async def connect_owner(dsn: str) -> asyncpg.Connection:
    """A single connection as the database owner, for migrations and administration."""
    return await asyncpg.connect(dsn, server_settings={"application_name": "hamkari-admin"})
