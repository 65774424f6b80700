"""Loading aggregates: the latest snapshot plus later events, through an in-process
LRU cache; snapshots are written every N events. The cache also remembers streams
that do not exist. A stale cache is harmless: the append's expected versions catch
a decision made on it, and a refusal is decided again from the store
(server/services/posting.py)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Container, Iterable

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
        # stream -> its aggregate, or None for a stream known not to exist
        self._cache: OrderedDict[str, HamkariAggregate | None] = OrderedDict()

    @property
    def pool(self) -> asyncpg.Pool:
        return self.store.pool

    async def load_many(
        self, streams: Iterable[str], *, fresh: Container[str] = frozenset()
    ) -> dict[str, HamkariAggregate | None]:
        """Several aggregates (None for a stream that does not exist), shared with the
        cache: read them, or `copy.deepcopy` one before deciding on it. What the cache
        lacks costs two queries in all (snapshots, then every stream's later events);
        streams in `fresh` skip the cache (those whose version the client asserted)."""
        out: dict[str, HamkariAggregate | None] = {}
        missing: list[str] = []
        for stream in dict.fromkeys(streams):
            if stream in fresh or stream not in self._cache:
                missing.append(stream)
                continue
            self._cache.move_to_end(stream)
            out[stream] = self._cache[stream]
        if missing:
            for stream, aggregate in (await self._load_fresh(missing)).items():
                self._remember(stream, aggregate)
                out[stream] = aggregate
        return out

    async def _load_fresh(self, streams: list[str]) -> dict[str, HamkariAggregate | None]:
        rows = await self.pool.fetch(
            "SELECT stream, version, topic, state FROM snapshots WHERE stream = any($1::text[])",
            streams,
        )
        snapshots = {
            row["stream"]: restore_snapshot(row["topic"], row["version"], row["state"])
            for row in rows
        }
        # each stream after its own snapshot's version: a snapshot written between the
        # two queries cannot make events go missing
        after = {s: snapshots[s].version if s in snapshots else 0 for s in streams}
        later = await self.store.read_streams(after)
        out: dict[str, HamkariAggregate | None] = {}
        for stream in streams:
            snapshot, events = snapshots.get(stream), later[stream]
            if snapshot is None and not events:
                out[stream] = None
            else:
                out[stream] = replay(events, snapshot) if events else snapshot
        return out

    def cached(self, stream: str) -> bool:
        """Whether this worker knows the stream (or knows it does not exist)."""
        return stream in self._cache

    def forget(self, streams: object) -> None:
        for stream in streams:  # type: ignore[attr-defined]
            self._cache.pop(stream, None)

    def _remember(self, stream: str, aggregate: HamkariAggregate | None) -> None:
        self._cache[stream] = aggregate
        self._cache.move_to_end(stream)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def committed(self, aggregates: list[HamkariAggregate], before: dict[str, int]) -> None:
        """After a successful append: cache the new states, snapshot where due.

        The aggregates are the decision's private copies and the caller is done with
        them: they are cached as they are (a deep copy here was a sixth of a batch's
        CPU). Whoever decides on a loaded aggregate copies it first."""
        for aggregate in aggregates:
            self._remember(aggregate.id, aggregate)
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
