"""The server's own database login: the role every connection of `hamkari serve` logs in
as, made by `hamkari migrate` so that it can never be more than it is, and its DSN.

The server's role (hamkari_app) logs in itself, rather than the owner logging in and
switching to it: a session's authenticated user is what `SET ROLE NONE`, `RESET ROLE`
and `SET SESSION AUTHORIZATION` fall back to, so that user must be nothing more than the
application role (docs/operator-guide.md, "The database roles")."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import asyncpg

from server.config import Settings

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"

# what the role may never be; NOINHERIT: were it ever granted a role, it would not
# silently act with that role's privileges
APP_ROLE_ATTRIBUTES = (
    "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT"
)
PASSWORD_FILE = "database-app-password"
_PASSWORD = re.compile(r"^[A-Za-z0-9_-]{32,}$")


class UnsafeDatabaseRole(RuntimeError):
    """The server's connections would log in as a role that is, or can become, more
    than the application role."""


def password_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / PASSWORD_FILE


def stored_password(settings: Settings) -> str | None:
    try:
        return password_path(settings).read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


def ensure_password(settings: Settings) -> str:
    """The app role's password from the data directory; made (mode 0600) if absent."""
    existing = stored_password(settings)
    if existing is not None:
        return existing
    path = password_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(32)
    # O_EXCL: two commands starting at once keep the first one's password
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return stored_password(settings) or password
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(password + "\n")
    return password


def app_dsn(owner_dsn: str, settings: Settings) -> str:
    """Where the server's connections log in: HAMKARI_APP_DATABASE_URL as given, or the
    owner's DSN with the app role and its stored password in place of the owner's."""
    if settings.app_database_url:
        return settings.app_database_url
    parts = urlsplit(owner_dsn)
    hosts = parts.netloc.rpartition("@")[2]
    password = stored_password(settings)
    userinfo = quote(settings.app_role, safe="")
    if password is not None:
        userinfo += ":" + quote(password, safe="")
    # a user or password among the query parameters would win over the netloc's
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key not in ("user", "password", "passfile")
    ]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{hosts}", query=urlencode(query)))


async def secure_app_role(conn: asyncpg.Connection, role: str, password: str | None) -> None:
    """On the owner's connection: make the role a login that can become nothing more,
    let it connect to this database, and set its password when one is given.

    Roles are the cluster's, not the database's: this is idempotent, and safe to run
    from every database of a cluster (the tests clone many from one template)."""
    quoted = _identifier(role)
    await conn.execute(f"ALTER ROLE {quoted} WITH {APP_ROLE_ATTRIBUTES}")
    if password is not None:
        if not _PASSWORD.match(password):
            raise ValueError("the app role's password file holds something unexpected")
        # ALTER ROLE takes no parameters; the password is ours and URL-safe base64
        await conn.execute(f"ALTER ROLE {quoted} WITH PASSWORD '{password}'")
    memberships = await conn.fetch(
        "SELECT roleid::regrole::text AS name FROM pg_auth_members WHERE member = $1::regrole",
        role,
    )
    for row in memberships:
        await conn.execute(f"REVOKE {row['name']} FROM {quoted}")
    database = _identifier(await _database(conn))
    await conn.execute(f"GRANT CONNECT ON DATABASE {database} TO {quoted}")


async def check_app_login(conn: Conn, role: str) -> None:
    """Refuse a server connection whose login could be, or become, more than `role`."""
    found = await conn.fetchrow(
        """
        SELECT session_user AS login, r.rolsuper, r.rolcreaterole, r.rolcreatedb,
               r.rolreplication, r.rolbypassrls,
               EXISTS (SELECT FROM pg_auth_members m WHERE m.member = r.oid) AS member,
               pg_has_role(session_user, (SELECT relowner FROM pg_class
                                          WHERE oid = 'events'::regclass), 'MEMBER')
                   AS owns_log
        FROM pg_roles r WHERE r.rolname = session_user
        """
    )
    assert found is not None
    powers = [
        name
        for name in ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls")
        if found[name]
    ]
    if found["login"] != role or powers or found["member"] or found["owns_log"]:
        raise UnsafeDatabaseRole(
            f"the server's connections must log in as {role!r}, a role with no powers and no"
            f" memberships; this one logs in as {found['login']!r}"
            + (f" ({', '.join(powers)})" if powers else "")
            + (", a member of other roles" if found["member"] else "")
            + (", the log's owner" if found["owns_log"] else "")
            + " (docs/operator-guide.md, 'The database roles')"
        )


async def _database(conn: asyncpg.Connection) -> str:
    name: str = await conn.fetchval("SELECT current_database()")
    return name


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
