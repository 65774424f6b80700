"""Fold snapshots: a projection's in-memory state at a log position, saved so that a
report at a past position folds from the newest one at or below it, not from 0.

A snapshot is a cache of what folding the log from 0 gives, made by that very fold
(`history.fold_log`), never read from the live tables. It is used only by code of the
same `version` (a digest of the projection's fold code and tables) while the projection
is at the `generation` it was taken under (every rebuild bumps it); anything else is
ignored, then deleted. `snapshot_keeper` takes them, next to the projection's runner."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import inspect
import sys
import zlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec

from schemas.events import SCHEMA_VERSIONS
from server.projections.model import Conn, Projection, State

#: Bumped when the stored form of a snapshot changes.
FORMAT = 1
#: Default spacing of snapshots, in log positions, and how many each projection keeps.
EVERY = 100_000
KEEP = 10
#: Rows per stored part: each part is encoded, compressed and decoded on its own, so
#: the event loop is never held for long (a part of deliveries is ~1 MB compressed).
PART_ROWS = 25_000

_ENCODER = msgspec.msgpack.Encoder(uuid_format="bytes")


@functools.cache
def _decoder(row: type[Any]) -> msgspec.msgpack.Decoder[list[Any]]:
    return msgspec.msgpack.Decoder(list[row])  # type: ignore[valid-type]


def version(projection: Projection) -> str:
    """A digest of what a fold state of `projection` depends on: the stored format, its
    tables, the schema versions of the events it folds, and the source of the modules
    its fold steps live in. Any change there makes its old snapshots unusable."""
    found = _VERSIONS.get(id(projection))
    if found is None:
        found = _VERSIONS[id(projection)] = _digest(projection)
    return found


# projections are constants of their modules: their digests are computed once
_VERSIONS: dict[int, str] = {}


def _digest(projection: Projection) -> str:
    digest = hashlib.sha256(f"format {FORMAT}\n{projection.name}\n".encode())
    for table in projection.tables:
        digest.update(f"{table.name} {sorted(table.types.items())}\n".encode())
    for event_type in sorted(projection.handles):
        digest.update(f"{event_type} v{SCHEMA_VERSIONS.get(event_type)}\n".encode())
    handlers = list(projection.handlers.values())
    for name in sorted({h.__module__ for h in handlers}):
        try:
            digest.update(inspect.getsource(sys.modules[name]).encode())
        except (KeyError, OSError, TypeError):  # no source shipped: the bytecode
            for handler in handlers:
                code = getattr(handler, "__code__", None)
                if handler.__module__ == name and code is not None:
                    digest.update(code.co_code)
    return digest.hexdigest()[:32]


Part = tuple[str, int, int, bytes]


async def _parts(projection: Projection, state: State) -> AsyncIterator[Part]:
    """(table, part, rows, compressed msgpack) for every table, part 0 always."""
    for table in projection.tables:
        rows = list(state[table.name].values())
        for part, start in enumerate(range(0, max(len(rows), 1), PART_ROWS)):
            chunk = rows[start : start + PART_ROWS]
            # zlib lets go of the GIL: compressing in a thread leaves the loop free
            packed = await asyncio.to_thread(zlib.compress, _ENCODER.encode(chunk), 1)
            yield table.name, part, len(chunk), packed


async def save(
    conn: Conn, projection: Projection, generation: int, position: int, state: State
) -> int:
    """Store `state` as the fold at `position`; returns the bytes stored. Whole or not at
    all (one transaction); a snapshot already there is left as it is (it is the same)."""
    key = (projection.name, version(projection), generation, position)
    records = [(*key, *part) async for part in _parts(projection, state)]
    async with conn.transaction():
        await conn.executemany(
            "INSERT INTO projection_snapshots"
            " (name, version, generation, position, table_name, part, row_count, rows)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            records,
        )
    return sum(len(r[-1]) for r in records)


_USABLE = """
    s.name = $1 AND s.version = $2
    AND s.generation = (SELECT generation FROM projections WHERE name = $1)
"""


async def positions(conn: Conn | asyncpg.Pool, projection: Projection) -> list[int]:
    """The positions of the usable snapshots of `projection`, oldest first."""
    rows = await conn.fetch(
        f"SELECT DISTINCT s.position FROM projection_snapshots s WHERE {_USABLE}"
        " ORDER BY s.position",
        projection.name,
        version(projection),
    )
    return [r["position"] for r in rows]


async def load(conn: Conn, projection: Projection, upto: int) -> tuple[int, State] | None:
    """The newest usable snapshot at or below `upto`: (its position, the state)."""
    records = await conn.fetch(
        f"""
        SELECT s.position, s.table_name, s.rows FROM projection_snapshots s
        WHERE {_USABLE} AND s.position = (
            SELECT max(s.position) FROM projection_snapshots s
            WHERE {_USABLE} AND s.position <= $3)
        ORDER BY s.table_name, s.part
        """,
        projection.name,
        version(projection),
        upto,
    )
    if not records:
        return None
    state = projection.empty()
    for record in records:
        table = projection.table(record["table_name"])
        raw = await asyncio.to_thread(zlib.decompress, record["rows"])
        stored = state[table.name]
        for row in _decoder(table.row).decode(raw):
            stored[row[0]] = row
        await asyncio.sleep(0)  # a part at a time: others get the loop in between
    return records[0]["position"], state


async def prune(conn: Conn, projection: Projection, generation: int, keep: int) -> int:
    """Delete snapshots of other versions or generations, and all but the newest `keep`
    positions of this one; returns the parts deleted."""
    result = await conn.execute(
        """
        DELETE FROM projection_snapshots
        WHERE name = $1 AND (version <> $2 OR generation <> $3 OR position < (
            SELECT min(position) FROM (
                SELECT DISTINCT position FROM projection_snapshots
                WHERE name = $1 AND version = $2 AND generation = $3
                ORDER BY position DESC LIMIT $4) AS newest))
        """,
        projection.name,
        version(projection),
        generation,
        keep,
    )
    return int(result.rsplit(" ", 1)[-1])
