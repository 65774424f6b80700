"""Appending scenarios straight into the store, running projections to the head, and
reading their tables and reports, for the projection tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg
import msgspec

from schemas.events import EVENT_TYPES, stream_of
from server.eventstore import EventStore, NewEvent, Recorded, canonical_json
from server.projections.catalog import PROJECTIONS
from server.projections.model import SCHEMA
from server.projections.reading import ReportReader
from server.projections.runner import ProjectionRunner

Spec = tuple[str, dict[str, Any]]


def new_event(type_name: str, data: dict[str, Any]) -> NewEvent:
    raw = canonical_json(data)
    decoded = msgspec.json.decode(raw, type=EVENT_TYPES[type_name])
    return NewEvent(id=uuid.uuid4(), type=type_name, stream=stream_of(type_name, decoded), data=raw)


async def append(store: EventStore, specs: Iterable[Spec]) -> list[Recorded]:
    """Append events (no rules are checked at the store) in one atomic batch."""
    return await store.append([new_event(t, d) for t, d in specs])


def runners(pool: asyncpg.Pool, batch_size: int = 5000) -> list[ProjectionRunner]:
    return [ProjectionRunner(pool, p, batch_size=batch_size) for p in PROJECTIONS.values()]


async def catch_up(pool: asyncpg.Pool, batch_size: int = 5000) -> None:
    for runner in runners(pool, batch_size):
        await runner.catch_up()


async def table_contents(pool: asyncpg.Pool) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model table's rows, in a stable order, as plain tuples."""
    contents = {}
    for projection in PROJECTIONS.values():
        for name in projection.table_names:
            count = await pool.fetchval(
                "SELECT count(*) FROM information_schema.columns"
                " WHERE table_schema = $1 AND table_name = $2",
                SCHEMA,
                name,
            )
            order = ", ".join(str(i) for i in range(1, count + 1))
            rows = await pool.fetch(f"SELECT * FROM {SCHEMA}.{name} ORDER BY {order}")
            contents[name] = [tuple(r) for r in rows]
    return contents


async def positions(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT name, position FROM projections")
    return {r["name"]: r["position"] for r in rows}


def reader(pool: asyncpg.Pool) -> ReportReader:
    return ReportReader(pool, wait_max=2.0)


def by(rows: Sequence[dict[str, Any]], *keys: str) -> dict[Any, dict[str, Any]]:
    """Rows keyed by one column (or a tuple of several)."""
    if len(keys) == 1:
        return {row[keys[0]]: row for row in rows}
    return {tuple(row[k] for k in keys): row for row in rows}
