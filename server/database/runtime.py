"""Where the database is: the operator's DATABASE_URL, or the embedded PostgreSQL
started under the data directory for as long as the command runs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from server.config import Settings
from server.database.embedded import EmbeddedPostgres

EMBEDDED_DATABASE = "hamkari"


def with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def ensure_database(admin_dsn: str, database: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield the owner DSN for this command; start (and later stop) the embedded server."""
    if settings.database_url:
        yield settings.database_url
        return
    settings.pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = EmbeddedPostgres(settings.pgdata)
    admin_dsn = server.start()
    try:
        asyncio.run(ensure_database(admin_dsn, EMBEDDED_DATABASE))
        yield with_database(admin_dsn, EMBEDDED_DATABASE)
    finally:
        server.stop_if_started_here()
