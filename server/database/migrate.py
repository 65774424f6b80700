"""Schema migrations: ordered plain-SQL files applied once each, recorded in a table.

A released migration is never edited; its checksum is recorded and checked."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from server.database.roles import secure_app_role

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# pg_advisory_lock key that serialises concurrent migrators ("hamkari migrate")
MIGRATION_LOCK = 0x48414D4B_4D494752


class MigrationEdited(RuntimeError):
    """A migration that was already applied has changed on disk."""


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    return [
        Migration(version=path.stem, sql=path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.sql"))
    ]


async def applied_versions(conn: asyncpg.Connection) -> dict[str, str]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    return {row["version"]: row["checksum"] for row in rows}


async def pending_migrations(conn: asyncpg.Connection) -> list[Migration]:
    applied = await applied_versions(conn)
    return [m for m in available_migrations() if m.version not in applied]


async def migrate(
    conn: asyncpg.Connection, *, app_role: str = "hamkari_app", app_password: str | None = None
) -> list[str]:
    """Apply every pending migration, each in its own transaction, then make the
    server's role a login that can become nothing more (server/database/roles.py),
    with `app_password` when given; return the versions applied."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    text        PRIMARY KEY,
                checksum   text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        applied = await applied_versions(conn)
        done: list[str] = []
        for migration in available_migrations():
            recorded = applied.get(migration.version)
            if recorded is not None:
                if recorded != migration.checksum:
                    raise MigrationEdited(
                        f"migration {migration.version} was changed after it was applied"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
                    migration.version,
                    migration.checksum,
                )
            done.append(migration.version)
        await secure_app_role(conn, app_role, app_password)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
