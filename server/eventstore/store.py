"""The event store: append through this process's appender, read streams and the log.

Knows nothing of HTTP; the API and services call it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import asyncpg

from server.eventstore.appender import Appender
from server.eventstore.records import NewEvent, Recorded, StoredEvent
from server.eventstore.rows import STORED_COLUMNS, stored_event


class EventStore:
    def __init__(self, pool: asyncpg.Pool, appender: Appender) -> None:
        self.pool = pool
        self.appender = appender

    async def append(
        self,
        events: Sequence[NewEvent],
        *,
        unchanged: Mapping[str, int] | None = None,
        replays: bool = True,
        token: bytes | None = None,
    ) -> list[Recorded]:
        """Append atomically; receipts in order. Raises VersionConflict, EventIdReused,
        StoreUnavailable; a replayed id yields its original receipt (replayed=True), or
        with `replays=False` fails the whole append with AlreadyStored.

        `unchanged` names streams the decision read without writing (a partner's
        status, a site's closure): if any moved on meanwhile, nothing is appended.
        `token`, the hash of the poster's token: if it is not active when the events
        commit, nothing is appended and TokenRevoked is raised."""
        return await self.appender.append(events, unchanged, replays=replays, token=token)

    async def head(self) -> int:
        """The last position in the log (0 when empty)."""
        value = await self.pool.fetchval("SELECT last_position FROM log_head")
        return int(value)

    async def read_stream(
        self,
        stream: str,
        *,
        after_version: int = 0,
        to_position: int | None = None,
        as_of: datetime | None = None,
    ) -> list[StoredEvent]:
        """A stream's events in version order, optionally as the log stood at a point."""
        rows = await self.pool.fetch(
            f"""
            SELECT {STORED_COLUMNS} FROM events
            WHERE stream = $1 AND version > $2
              AND ($3::bigint IS NULL OR position <= $3)
              AND ($4::timestamptz IS NULL OR recorded_at <= $4)
            ORDER BY version
            """,
            stream,
            after_version,
            to_position,
            as_of,
        )
        return [stored_event(row) for row in rows]

    async def read_streams(self, after: Mapping[str, int]) -> dict[str, list[StoredEvent]]:
        """Several streams at once, each after its own version: one query for a batch.

        Every stream asked for is in the answer (an empty list when it has no later
        events); each list is in version order."""
        out: dict[str, list[StoredEvent]] = {stream: [] for stream in after}
        if not after:
            return out
        rows = await self.pool.fetch(
            f"""
            SELECT {STORED_COLUMNS}
            FROM unnest($1::text[], $2::bigint[]) AS wanted(wanted_stream, after_version)
            JOIN events ON events.stream = wanted_stream AND events.version > after_version
            ORDER BY events.stream, events.version
            """,
            list(after),
            list(after.values()),
        )
        for row in rows:
            event = stored_event(row)
            out[event.stream].append(event)
        return out

    async def stream_version(self, stream: str) -> int:
        value = await self.pool.fetchval(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream = $1", stream
        )
        return int(value)

    async def stream_versions(self, streams: Sequence[str]) -> dict[str, int]:
        """The batch form of stream_version: streams that do not exist are left out."""
        rows = await self.pool.fetch(
            "SELECT stream, max(version) AS version FROM events "
            "WHERE stream = any($1::text[]) GROUP BY stream",
            list(streams),
        )
        return {row["stream"]: int(row["version"]) for row in rows}

    async def read_log(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """The global log in position order, after `after`, at most `limit` events."""
        rows = await self.pool.fetch(
            f"SELECT {STORED_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",
            after,
            limit,
        )
        return [stored_event(row) for row in rows]

    async def get(self, event_ids: Sequence[object]) -> list[StoredEvent]:
        rows = await self.pool.fetch(
            f"SELECT {STORED_COLUMNS} FROM events WHERE event_id = any($1::uuid[]) "
            "ORDER BY position",
            list(event_ids),
        )
        return [stored_event(row) for row in rows]
