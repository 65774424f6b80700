"""Where each projection stands: its position and generation, the error that stopped
it, its lag behind the log head, and whether some process is running it.

The position moves only in the transaction that writes the projection's rows, after
`fence` has locked the row and checked nobody else moved it (exactly-once)."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable

import asyncpg
import msgspec

from schemas.text import storable
from server.projections.model import Conn

#: Top 32 bits of every projection's advisory lock key ("HMKP").
_LOCK_SPACE = 0x484D4B50


def lock_key(name: str, purpose: str = "run") -> int:
    """The pg advisory lock key of a projection's runner (or rebuild), a signed bigint."""
    low = int.from_bytes(hashlib.sha256(f"{purpose}:{name}".encode()).digest()[:4], "big")
    key = (_LOCK_SPACE << 32) | low
    return key - (1 << 64) if key >= 1 << 63 else key


class Standing(msgspec.Struct, frozen=True):
    position: int
    generation: int
    error: str | None


class Status(msgspec.Struct, frozen=True, kw_only=True):
    """One projection as `GET /v1/admin/projections` shows it."""

    name: str
    description: str
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    running: bool
    generation: int
    updated_at: datetime.datetime
    error: str | None
    error_position: int | None
    error_at: datetime.datetime | None
    rebuild_started_at: datetime.datetime | None
    rebuilt_at: datetime.datetime | None
    rebuild_error: str | None


async def ensure(conn: Conn | asyncpg.Pool, names: Iterable[str]) -> None:
    await conn.execute(
        "INSERT INTO projections (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
        list(names),
    )


async def standings(conn: Conn | asyncpg.Pool, names: Iterable[str]) -> dict[str, Standing]:
    rows = await conn.fetch(
        "SELECT name, position, generation, error FROM projections WHERE name = any($1::text[])",
        list(names),
    )
    return {r["name"]: Standing(r["position"], r["generation"], r["error"]) for r in rows}


async def fence(conn: Conn, name: str) -> Standing:
    """Lock the projection's row for this transaction and return where it stands.

    The caller writes only when the result equals what it read its rows under; a
    rebuild's swap or another runner may have moved it meanwhile."""
    row = await conn.fetchrow(
        "SELECT position, generation, error FROM projections WHERE name = $1 FOR UPDATE", name
    )
    if row is None:
        raise LookupError(f"projection {name!r} is not registered")
    return Standing(row["position"], row["generation"], row["error"])


async def advance(conn: Conn, name: str, position: int) -> None:
    await conn.execute(
        "UPDATE projections SET position = $2, updated_at = now(),"
        " error = NULL, error_position = NULL, error_at = NULL WHERE name = $1",
        name,
        position,
    )


async def record_error(
    conn: Conn | asyncpg.Pool, name: str, position: int | None, message: str
) -> None:
    await conn.execute(
        "UPDATE projections SET error = $2, error_position = $3, error_at = now() WHERE name = $1",
        name,
        # a message may quote stored text: PostgreSQL's text cannot hold U+0000
        storable(message[:4000]),
        position,
    )


async def statuses(conn: Conn | asyncpg.Pool, descriptions: dict[str, str]) -> list[Status]:
    """Every projection's standing, with its lag behind the log head."""
    rows = await conn.fetch(
        """
        SELECT p.*, h.last_position AS head,
               extract(epoch FROM now() - (SELECT e.recorded_at FROM events e
                                           WHERE e.position = p.position + 1))::float8 AS behind
        FROM projections p CROSS JOIN log_head h
        WHERE p.name = any($1::text[])
        ORDER BY p.name
        """,
        list(descriptions),
    )
    result = []
    for r in rows:
        running = await _lock_held(conn, lock_key(r["name"]))
        result.append(
            Status(
                name=r["name"],
                description=descriptions[r["name"]],
                position=r["position"],
                head=r["head"],
                lag_events=max(0, r["head"] - r["position"]),
                lag_seconds=max(0.0, r["behind"] or 0.0),
                running=running,
                generation=r["generation"],
                updated_at=r["updated_at"],
                error=r["error"],
                error_position=r["error_position"],
                error_at=r["error_at"],
                rebuild_started_at=r["rebuild_started_at"],
                rebuilt_at=r["rebuilt_at"],
                rebuild_error=r["rebuild_error"],
            )
        )
    return result


async def rebuild_running(conn: Conn | asyncpg.Pool, name: str) -> bool:
    """Whether some process is rebuilding `name` now (it holds the rebuild lock)."""
    return await _lock_held(conn, lock_key(name, "rebuild"))


async def _lock_held(conn: Conn | asyncpg.Pool, key: int) -> bool:
    held = await conn.fetchval(
        "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND objsubid = 1 AND classid::bigint = $1 AND objid::bigint = $2)",
        (key >> 32) & 0xFFFFFFFF,
        key & 0xFFFFFFFF,
    )
    return bool(held)
