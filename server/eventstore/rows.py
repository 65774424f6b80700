"""How an event row is selected and turned into a StoredEvent, in one place."""

from __future__ import annotations

import asyncpg

from server.eventstore.records import StoredEvent

STORED_COLUMNS = (
    "position, event_id, stream, version, type, schema_version, recorded_at, entry, leaf_hash"
)


def stored_event(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent(
        position=row["position"],
        id=row["event_id"],
        stream=row["stream"],
        version=row["version"],
        type=row["type"],
        schema_version=row["schema_version"],
        recorded_at=row["recorded_at"],
        entry=row["entry"],
        leaf_hash=row["leaf_hash"],
    )
