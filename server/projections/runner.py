"""Keeping read models up to date: one runner per projection reads the log after its
position in large batches, folds them, and writes the rows and the new position in
one transaction; then it waits for NOTIFY (or a poll) and does it again.

A batch is: read the head, read the events up to it, load the rows they touch, fold
in memory, then in one transaction lock the projection's row (`fence`), check nobody
moved it, write, advance. A crash anywhere loses the whole batch or none of it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable

import asyncpg

from server.eventstore.appender import UNAVAILABLE
from server.projections import snapshots
from server.projections.decoding import UndecodableEvent, decode, log_head, read_rows
from server.projections.model import Event, Projection, copy_state
from server.projections.persistence import live_names, load, write_changes
from server.projections.snapshot_keeper import SnapshotKeeper
from server.projections.tracking import Standing, advance, fence, record_error, standings

log = logging.getLogger(__name__)


class ProjectionStopped(Exception):
    """An event this projection could not fold or write: it stops there, error recorded."""

    def __init__(self, name: str, position: int | None, reason: str) -> None:
        where = f"at position {position}" if position is not None else "between positions"
        super().__init__(f"projection {name} stopped {where}: {reason}")
        self.position = position


class Moved(Exception):
    """Someone else (a rebuild's swap, another runner) moved the projection meanwhile."""


class ProjectionRunner:
    """Applies the log to one projection's live tables, batch by batch."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        projection: Projection,
        *,
        batch_size: int = 5000,
        on_commit: Callable[[int], None] | None = None,
        snapshot_every: int | None = snapshots.EVERY,
        snapshot_keep: int = snapshots.KEEP,
    ) -> None:
        self.pool = pool
        self.projection = projection
        self.batch_size = batch_size
        # fold snapshots for `?at_position=` are taken while `follow` runs this runner
        self.snapshots = (
            SnapshotKeeper(pool, projection, every=snapshot_every, keep=snapshot_keep)
            if snapshot_every
            else None
        )
        self.names = live_names(projection)
        self.standing: Standing | None = None
        self.on_commit = on_commit
        self.events_applied = 0
        self.batches_committed = 0
        # the end of the batch last tried: how far a failed batch's search goes
        self.attempted_upto = 0

    @property
    def name(self) -> str:
        return self.projection.name

    async def refresh(self) -> Standing:
        """Where the projection stands in the database (after a rebuild, a failover)."""
        found = (await standings(self.pool, [self.name])).get(self.name)
        if found is None:
            raise LookupError(f"projection {self.name!r} is not registered")
        self.standing = found
        return found

    async def catch_up(self) -> int:
        """Apply batches until the projection reaches the head it saw; events applied.

        Raises ProjectionStopped when an event cannot be applied (the events before it
        are committed first and the error is recorded), Moved when the projection was
        moved by someone else (call again: it re-reads its standing)."""
        total = 0
        while True:
            applied, more = await self.step()
            total += applied
            if not more:
                return total

    async def step(self, limit: int | None = None) -> tuple[int, bool]:
        """One batch: (events applied, whether more may be waiting)."""
        standing = self.standing or await self.refresh()
        limit = limit or self.batch_size
        head = await log_head(self.pool)
        if head <= standing.position:
            return 0, False
        rows = await read_rows(self.pool, standing.position, head, self.projection.handles, limit)
        full = len(rows) == limit
        upto = rows[-1]["position"] if full else head
        self.attempted_upto = upto
        events: list[Event] = []
        failure: tuple[int, str] | None = None
        for row in rows:
            try:
                events.append(decode(row))
            except UndecodableEvent as exc:
                failure = (exc.position, str(exc))
                break
        try:
            await self._commit(standing, events, upto if failure is None else failure[0] - 1)
        except _FoldFailed as exc:
            failure = (exc.position, exc.reason)
            await self._commit(standing, events[: exc.index], exc.position - 1)
        if failure is not None:
            await record_error(self.pool, self.name, failure[0], failure[1])
            raise ProjectionStopped(self.name, failure[0], failure[1])
        return len(events), full

    async def _commit(self, standing: Standing, events: list[Event], upto: int) -> None:
        if upto <= standing.position:
            return
        async with self.pool.acquire() as conn:
            before = await load(conn, self.projection, self.names, self.projection.needs(events))
            after = copy_state(before)
            for index, event in enumerate(events):
                try:
                    self.projection.fold(after, event)
                except Exception as exc:  # a bug in a fold: stop here, loudly
                    log.exception("%s: folding position %d failed", self.name, event.position)
                    reason = f"{type(exc).__name__}: {exc}"
                    raise _FoldFailed(index, event.position, reason) from exc
            async with conn.transaction():
                # a read model is derived data: a crash may lose its last commits, never
                # half of one, and the runner redoes them from the position it finds
                await conn.execute("SET LOCAL synchronous_commit = off")
                now = await fence(conn, self.name)
                if (now.position, now.generation) != (standing.position, standing.generation):
                    self.standing = None
                    raise Moved(f"{self.name} moved to {now.position} (gen {now.generation})")
                await write_changes(conn, self.projection, self.names, before, after)
                await advance(conn, self.name, upto)
        self.standing = Standing(upto, standing.generation, None)
        self.events_applied += len(events)
        self.batches_committed += 1
        if self.snapshots is not None:
            self.snapshots.committed(standing.position, upto)
        if self.on_commit is not None:
            self.on_commit(upto)

    async def locate_failure(self) -> None:
        """After a batch failed to write: apply its events one at a time, so the one
        that cannot be written is found and named (a passing glitch just goes by)."""
        end = self.attempted_upto
        while True:
            standing = self.standing or await self.refresh()
            if standing.position >= end:
                return
            try:
                _applied, more = await self.step(limit=1)
            except asyncpg.PostgresError as exc:
                position = await self._next_position(standing.position)
                reason = f"writing failed: {type(exc).__name__}: {exc}"
                await record_error(self.pool, self.name, position, reason)
                raise ProjectionStopped(self.name, position, reason) from exc
            if not more:
                return

    async def _next_position(self, after: int) -> int | None:
        rows = await read_rows(self.pool, after, 2**62, self.projection.handles, 1)
        return rows[0]["position"] if rows else None


class _FoldFailed(Exception):
    def __init__(self, index: int, position: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.position = position
        self.reason = reason


async def follow(
    runner: ProjectionRunner,
    woken: asyncio.Event,
    *,
    poll_interval: float,
    still_ours: Callable[[], bool],
    step_interval: float = 0.0,
) -> None:
    """Run `runner` until it loses its lock, stops on an error, or is cancelled.

    After it has caught up, it steps again at most every `step_interval` seconds: under
    a stream of small commits (each one notifies) the events of that interval are
    applied in one batch rather than one transaction per commit, for at most that much
    more lag (an event after a quiet spell is applied at once).

    A lost connection is retried with backoff; a batch PostgreSQL refused is retried
    one event at a time, which names the event (ProjectionStopped) or gets past a
    passing failure. The runner's fold snapshots are kept meanwhile, by a task of their
    own that ends with this one."""
    keeper = runner.snapshots
    keeping = asyncio.create_task(keeper.run()) if keeper is not None else None
    try:
        await _follow(runner, woken, poll_interval, still_ours, step_interval)
    finally:
        if keeping is not None:
            keeping.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await keeping


async def _follow(
    runner: ProjectionRunner,
    woken: asyncio.Event,
    poll_interval: float,
    still_ours: Callable[[], bool],
    step_interval: float,
) -> None:
    backoff = 0.05
    locate = False
    stepped = -math.inf
    while still_ours():
        wait = stepped + step_interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        stepped = time.monotonic()
        woken.clear()
        try:
            if locate:
                await runner.locate_failure()
                locate = False
            # batch by batch, so that a shutdown stops the runner at a batch boundary
            more = True
            while more and still_ours():
                _applied, more = await runner.step()
            backoff = 0.05
        except Moved:
            continue
        except ProjectionStopped:
            raise
        except UNAVAILABLE as exc:
            log.warning("%s: database unavailable (%s); retrying", runner.name, exc)
            runner.standing = None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        except asyncpg.PostgresError as exc:
            log.warning("%s: writing a batch failed (%s); finding the event", runner.name, exc)
            runner.standing = None
            locate = True
            continue
        if not still_ours():
            # (told to stop while it waited out the step interval: that wake-up was
            # cleared above, and waiting for another would hold a shutdown for a poll)
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(woken.wait(), poll_interval)
