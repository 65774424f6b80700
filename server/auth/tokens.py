"""Bearer tokens: random, shown once, stored only as a SHA-256 hash, revocable.

Issuing and revoking are the operator's (CLI, as the database owner); the server only
looks tokens up."""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from datetime import datetime

import asyncpg
import msgspec

TOKEN_PREFIX = "hmk_"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    PARTNER = "partner"
    AUDITOR = "auditor"


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The caller behind a token: its name (the principal id), role and partner."""

    name: str
    role: Role
    partner_id: str | None = None


class TokenInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    role: str
    partner_id: str | None
    created_at: datetime
    revoked_at: datetime | None


class TokenError(ValueError):
    """A token could not be issued or revoked as asked."""


def hash_token(token: str) -> bytes:
    # Tokens carry 256 random bits, so a fast hash is enough: there is nothing to guess.
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def issue(
    conn: asyncpg.Connection, *, name: str, role: str, partner_id: str | None = None
) -> str:
    """Create a token and return it; only its hash is kept."""
    if not NAME_PATTERN.match(name):
        raise TokenError(f"token name {name!r} must be a lowercase slug (letters, digits, . _ -)")
    try:
        parsed = Role(role)
    except ValueError:
        raise TokenError(f"role must be one of {', '.join(r.value for r in Role)}") from None
    if (parsed is Role.PARTNER) != (partner_id is not None):
        raise TokenError("a partner token needs --partner, and only a partner token takes it")
    if partner_id is not None and not SLUG_PATTERN.match(partner_id):
        raise TokenError(f"partner id {partner_id!r} must be a lowercase slug")
    token = new_token()
    try:
        await conn.execute(
            "INSERT INTO tokens (name, token_hash, role, partner_id) VALUES ($1, $2, $3, $4)",
            name,
            hash_token(token),
            parsed.value,
            partner_id,
        )
    except asyncpg.UniqueViolationError:
        raise TokenError(f"a token named {name!r} already exists") from None
    return token


async def revoke(conn: asyncpg.Connection, name: str) -> None:
    status = await conn.execute(
        "UPDATE tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL", name
    )
    if status == "UPDATE 0":
        raise TokenError(f"no active token named {name!r}")


async def list_tokens(conn: asyncpg.Connection) -> list[TokenInfo]:
    rows = await conn.fetch(
        "SELECT name, role, partner_id, created_at, revoked_at FROM tokens ORDER BY name"
    )
    return [TokenInfo(**dict(row)) for row in rows]


def well_formed(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX) and len(token) <= 128


async def authenticate(pool: asyncpg.Pool, token: str) -> Principal | None:
    """The principal for an active token, or None."""
    if not well_formed(token):
        return None
    return await look_up(pool, hash_token(token))


async def look_up(pool: asyncpg.Pool, token_hash: bytes) -> Principal | None:
    """The principal for the active token with this hash, or None."""
    row = await pool.fetchrow(
        "SELECT name, role, partner_id FROM tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        token_hash,
    )
    if row is None:
        return None
    return Principal(name=row["name"], role=Role(row["role"]), partner_id=row["partner_id"])


class KnownTokens:
    """The principals of tokens this worker has looked up, by hash, for posts to skip
    the look-up. A token's name, role and partner never change; only revocation does,
    and a post with a known token is checked for that where it costs no round trip:
    in the transaction that commits its events. Any other answer to such a post waits
    for a fresh look-up (docs/write-path.md). Bounded: when full, it starts again."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._principals: dict[bytes, Principal] = {}

    def get(self, token_hash: bytes) -> Principal | None:
        return self._principals.get(token_hash)

    def remember(self, token_hash: bytes, principal: Principal) -> None:
        if len(self._principals) >= self._size:
            self._principals.clear()
        self._principals[token_hash] = principal

    def forget(self, token_hash: bytes) -> None:
        self._principals.pop(token_hash, None)
