"""Reading the log for projections: the rows they need, in position order, and their
data decoded into the contract's Structs (one decoder per type and schema version).

A projection reads only the event types it folds; the position it reaches is the
log head it read under, so stretches of other events still move it forward."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from typing import Any

import asyncpg
import msgspec

from schemas.events import EVENT_TYPES, SCHEMA_VERSIONS
from schemas.stored import StoredDecoder
from schemas.text import storable
from server.projections.model import Conn, Event

LOG_COLUMNS = "position, type, schema_version, recorded_at, entry"


class UndecodableEvent(Exception):
    """A stored event this code cannot read: an unknown type or version, or bad bytes."""

    def __init__(self, position: int, event_type: str, reason: str) -> None:
        super().__init__(f"event at position {position} ({event_type}) cannot be read: {reason}")
        self.position = position


def _entry_decoder(data: type[Any]) -> StoredDecoder[Any]:
    # only `data` is typed: the envelope's other fields come from the row's columns.
    # An event this version would refuse (U+0000 in a text, from an older version) is
    # read all the same, its refused characters as U+FFFD: read models hold only text
    # PostgreSQL can store and the API would accept (docs/projections.md)
    entry = msgspec.defstruct(f"{data.__name__}Entry", [("data", data)], frozen=True)
    return StoredDecoder(entry, text=storable)


# (type, schema version) -> decoder of the stored entry. A new event version adds its
# decoder here together with an upcaster to the current Struct, so folds see one shape.
_DECODERS: dict[tuple[str, int], StoredDecoder[Any]] = {
    (name, SCHEMA_VERSIONS[name]): _entry_decoder(cls) for name, cls in EVENT_TYPES.items()
}


def decode(row: asyncpg.Record | tuple[int, str, int, datetime.datetime, bytes]) -> Event:
    """A `LOG_COLUMNS` row (from the table, or from an export offline) -> Event;
    UndecodableEvent when it cannot be read."""
    position, event_type, version, recorded_at, entry = row
    decoder = _DECODERS.get((event_type, version))
    if decoder is None:
        raise UndecodableEvent(position, event_type, f"no decoder for schema version {version}")
    try:
        data = decoder.decode(entry).data
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
        raise UndecodableEvent(position, event_type, str(exc)) from exc
    return Event(position, event_type, recorded_at, data)


async def log_head(conn: Conn | asyncpg.Pool) -> int:
    return int(await conn.fetchval("SELECT last_position FROM log_head"))


async def read_rows(
    conn: Conn | asyncpg.Pool,
    after: int,
    upto: int,
    types: Collection[str],
    limit: int,
) -> list[asyncpg.Record]:
    """Rows of the given types in (after, upto], in position order, at most `limit`.

    Every position up to a head read earlier is committed (the appender moves the head
    in the appending transaction), so `upto` = that head leaves no holes behind."""
    return await conn.fetch(
        f"SELECT {LOG_COLUMNS} FROM events"
        " WHERE position > $1 AND position <= $2 AND type = any($3::text[])"
        " ORDER BY position LIMIT $4",
        after,
        upto,
        list(types),
        limit,
    )
