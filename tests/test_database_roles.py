"""The server's database login cannot be undone: every connection of the server logs in
as the application role, which is no superuser, owns nothing and can become nothing."""

from __future__ import annotations

import contextlib
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from server.cli.common import migrate_dsn
from server.config import Settings
from server.database.pool import create_pool
from server.database.roles import UnsafeDatabaseRole, app_dsn, password_path
from server.eventstore import EventStore
from server.projections.host import app_connector
from tests.conftest import LiveServer
from tests.eventstore.helpers import new_event

APP = "hamkari_app"

# each tries to get back to the owner, or past the log's guards
ESCAPES = [
    "SET ROLE NONE",
    "RESET ROLE",
    "SET SESSION AUTHORIZATION postgres",
    "SET SESSION AUTHORIZATION DEFAULT",
    "RESET SESSION AUTHORIZATION",
    "SET ROLE postgres",
    "SET ROLE hamkari_readmodel",
    "SET ROLE pg_write_server_files",
]


@pytest.fixture(params=["pool", "projections connection"])
async def server_connection(
    request: pytest.FixtureRequest, database_url: str, settings: Settings
) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the server opens them: from its pool, or the projection host's own."""
    if request.param == "pool":
        pool = await create_pool(database_url, settings, min_size=1, max_size=1)
        try:
            async with pool.acquire() as conn:
                yield conn  # type: ignore[misc]
        finally:
            await pool.close()
    else:
        conn = await app_connector(database_url, settings)()
        try:
            yield conn
        finally:
            await conn.close()


async def _who(conn: asyncpg.Connection) -> tuple[str, str, bool]:
    row = await conn.fetchrow(
        "SELECT current_user AS cur, session_user AS ses,"
        " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS sup"
    )
    assert row is not None
    return row["cur"], row["ses"], row["sup"]


@pytest.mark.parametrize("escape", ESCAPES)
async def test_a_server_connection_cannot_become_more_than_the_app_role(
    server_connection: asyncpg.Connection, store: EventStore, escape: str
) -> None:
    await store.append([new_event("s")])
    assert await _who(server_connection) == (APP, APP, False)
    # refused, or accepted and a no-op: either way it gives nothing
    with contextlib.suppress(asyncpg.PostgresError):
        await server_connection.execute(escape)
    assert await _who(server_connection) == (APP, APP, False)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await server_connection.execute("ALTER TABLE events DISABLE TRIGGER ALL")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await server_connection.execute("UPDATE events SET type = 'Forged'")
    assert await server_connection.fetchval("SELECT count(*) FROM events") == 1


async def test_the_app_role_is_a_login_with_no_powers_and_no_memberships(
    database_url: str,
) -> None:
    owner = await asyncpg.connect(database_url)
    try:
        role = await owner.fetchrow("SELECT * FROM pg_roles WHERE rolname = $1", APP)
        assert role is not None
        assert role["rolcanlogin"]
        for power in ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication"):
            assert not role[power], power
        assert not role["rolbypassrls"] and not role["rolinherit"]
        member_of = await owner.fetch(
            "SELECT roleid::regrole FROM pg_auth_members WHERE member = $1::regrole", APP
        )
        assert member_of == []
        log_owner = await owner.fetchval(
            "SELECT relowner::regrole::text FROM pg_class WHERE oid = 'events'::regclass"
        )
        assert log_owner != APP
        # it owns nothing in this database, the read models included
        owned = await owner.fetchval(
            "SELECT count(*) FROM pg_class WHERE relowner = $1::regrole", APP
        )
        assert owned == 0
    finally:
        await owner.close()


OWNERS_ONLY = [
    "CREATE TABLE readmodel.planted (x int)",
    "CREATE TABLE public.planted (x int)",
    "CREATE FUNCTION public.planted() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE FUNCTION readmodel.planted() RETURNS trigger LANGUAGE plpgsql"
    " AS 'BEGIN RETURN NEW; END'",
    "ALTER TABLE readmodel.deliveries ADD COLUMN planted int",
    "CREATE TRIGGER planted BEFORE INSERT ON readmodel.deliveries"
    " FOR EACH ROW EXECUTE FUNCTION hamkari_reject_change()",
    "DROP TABLE readmodel.deliveries",
    "SELECT readmodel.hamkari_rebuild_create(ARRAY['deliveries__next'])",
    "SELECT readmodel.hamkari_rebuild_discard(ARRAY['events'])",
]


@pytest.mark.parametrize("statement", OWNERS_ONLY)
async def test_the_app_role_cannot_plant_code_or_reshape_the_read_models(
    server_connection: asyncpg.Connection, statement: str
) -> None:
    # a trigger or function of the server's role would run as whoever later wrote that
    # table, a migration among them: the read models have an owner of their own
    with pytest.raises((asyncpg.InsufficientPrivilegeError, asyncpg.InvalidParameterValueError)):
        await server_connection.execute(statement)


async def test_a_pool_refuses_to_log_in_as_the_owner(database_url: str, tmp_path: Path) -> None:
    owners_login = Settings(database_url=database_url, app_database_url=database_url)
    with pytest.raises(UnsafeDatabaseRole, match="must log in as 'hamkari_app'"):
        await create_pool(database_url, owners_login, min_size=1, max_size=1)


def test_the_app_login_is_the_owners_address_with_the_app_role(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path))
    owner = "postgresql://admin:secret@h1:5432,h2/db?target_session_attrs=read-write&user=admin"
    assert app_dsn(owner, settings) == (
        "postgresql://hamkari_app@h1:5432,h2/db?target_session_attrs=read-write"
    )
    password_path(settings).write_text("pw-" + "x" * 40 + "\n")
    assert app_dsn(owner, settings).startswith(f"postgresql://hamkari_app:pw-{'x' * 40}@h1")
    managed = Settings(data_dir=str(tmp_path), app_database_url="postgresql://me:pw@h/db")
    assert app_dsn(owner, managed) == "postgresql://me:pw@h/db"


async def test_migrate_gives_the_app_role_a_password_kept_in_the_data_directory(
    database_url: str, pg_admin_dsn: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, data_dir=str(tmp_path / "var"))
    await migrate_dsn(database_url, settings)
    path = password_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    password = path.read_text().strip()
    admin = await asyncpg.connect(pg_admin_dsn)
    try:
        stored = await admin.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", APP)
    finally:
        await admin.close()
    assert stored is not None and stored.startswith("SCRAM-SHA-256$")
    # a second run keeps the same password: a running server's next connection works
    await migrate_dsn(database_url, settings)
    assert path.read_text().strip() == password


async def test_every_connection_of_a_running_server_logs_in_as_the_app_role(
    live_server: LiveServer, database_url: str
) -> None:
    owner = await asyncpg.connect(database_url)
    try:
        logins = await owner.fetch(
            "SELECT DISTINCT usename, application_name FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await owner.close()
    names = {row["application_name"] for row in logins}
    assert {"hamkari", "hamkari-projections"} <= names
    assert {row["usename"] for row in logins} == {APP}
