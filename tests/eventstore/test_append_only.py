"""The log cannot be rewritten: the database refuses UPDATE, DELETE and TRUNCATE on it,
for the server's own role and for the owner alike."""

from __future__ import annotations

import asyncpg
import pytest

from server.eventstore import EventStore
from tests.eventstore.helpers import new_event

REWRITES = [
    "UPDATE events SET type = 'Forged'",
    "DELETE FROM events WHERE position = 1",
    "TRUNCATE events",
    "TRUNCATE events CASCADE",
]


@pytest.mark.parametrize("statement", REWRITES)
async def test_server_role_cannot_rewrite_the_log(
    store: EventStore, pool: asyncpg.Pool, statement: str
) -> None:
    await store.append([new_event("s")])
    assert await pool.fetchval("SELECT current_user") == "hamkari_app"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute(statement)
    assert await pool.fetchval("SELECT count(*) FROM events") == 1


@pytest.mark.parametrize("statement", REWRITES)
async def test_owner_cannot_rewrite_the_log_either(
    store: EventStore, database_url: str, statement: str
) -> None:
    await store.append([new_event("s")])
    owner = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute(statement)
        # not even with replication-role tricks: the triggers are ENABLE ALWAYS
        await owner.execute("SET session_replication_role = replica")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute(statement)
        assert await owner.fetchval("SELECT count(*) FROM events") == 1
    finally:
        await owner.close()


async def test_server_role_cannot_alter_or_disable_the_guards(pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute("ALTER TABLE events DISABLE TRIGGER ALL")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute("DROP TABLE events")
