"""Loading aggregates: the latest snapshot plus later events, through an in-process
LRU cache; snapshots are written every N events. A stale cache is harmless: the
append's expected versions catch it and the decision is made again."""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict

import asyncpg

from server.aggregates.base import HamkariAggregate
from server.aggregates.mapping import replay, restore_snapshot, take_snapshot
from server.eventstore import EventStore

log = logging.getLogger(__name__)


class AggregateRepository:
    def __init__(
        self, store: EventStore, *, cache_size: int = 10_000, snapshot_every: int = 50
    ) -> None:
        self.store = store
        self.snapshot_every = snapshot_every
        self._cache_size = cache_size
        self._cache: OrderedDict[str, HamkariAggregate] = OrderedDict()

    @property
    def pool(self) -> asyncpg.Pool:
        return self.store.pool

    async def load(self, stream: str, *, fresh: bool = False) -> HamkariAggregate | None:
        """A private copy of the aggregate (None when the stream does not exist).

        `fresh` skips the cache: for a stream whose version the client asserted."""
        cached = None if fresh else self._cache.get(stream)
        if cached is not None:
            self._cache.move_to_end(stream)
            return copy.deepcopy(cached)
        aggregate = await self._load_fresh(stream)
        if aggregate is not None:
            self._remember(aggregate)
            return copy.deepcopy(aggregate)
        return None

    async def _load_fresh(self, stream: str) -> HamkariAggregate | None:
        row = await self.pool.fetchrow(
            "SELECT version, topic, state FROM snapshots WHERE stream = $1", stream
        )
        snapshot = None
        after = 0
        if row is not None:
            snapshot = restore_snapshot(row["topic"], row["version"], row["state"])
            after = row["version"]
        events = await self.store.read_stream(stream, after_version=after)
        if snapshot is None and not events:
            return None
        return replay(events, snapshot) if events else snapshot

    def forget(self, streams: object) -> None:
        for stream in streams:  # type: ignore[attr-defined]
            self._cache.pop(stream, None)

    def _remember(self, aggregate: HamkariAggregate) -> None:
        self._cache[aggregate.id] = aggregate
        self._cache.move_to_end(aggregate.id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def committed(self, aggregates: list[HamkariAggregate], before: dict[str, int]) -> None:
        """After a successful append: cache the new states, snapshot where due."""
        for aggregate in aggregates:
            self._remember(copy.deepcopy(aggregate))
            crossed = aggregate.version // self.snapshot_every > before.get(aggregate.id, 0) // (
                self.snapshot_every
            )
            if crossed:
                await self._snapshot(aggregate)

    async def _snapshot(self, aggregate: HamkariAggregate) -> None:
        topic, version, state = take_snapshot(aggregate)
        try:
            await self.pool.execute(
                """
                INSERT INTO snapshots (stream, version, topic, state) VALUES ($1, $2, $3, $4)
                ON CONFLICT (stream) DO UPDATE
                SET version = excluded.version, topic = excluded.topic, state = excluded.state,
                    taken_at = now()
                WHERE snapshots.version < excluded.version
                """,
                aggregate.id,
                version,
                topic,
                state,
            )
        except (asyncpg.PostgresError, OSError) as exc:
            # a snapshot is only a cache: failing to write one loses nothing
            log.warning("snapshot of %s at %d not written: %s", aggregate.id, version, exc)
