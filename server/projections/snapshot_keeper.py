"""Taking fold snapshots as the log grows: at every multiple of `every` positions, fold
the log from the newest snapshot to there with the one fold and save the state.

It runs next to a projection's runner, in the process that holds the projection
(`runner.follow`), so one process takes each projection's snapshots. A snapshot is a
cache: a failure is logged and retried later, never stops the projection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

import asyncpg

from server.eventstore.appender import UNAVAILABLE
from server.projections.decoding import log_head
from server.projections.history import fold_log
from server.projections.model import Projection, State
from server.projections.snapshots import EVERY, KEEP, load, positions, prune, save

log = logging.getLogger(__name__)

#: Events read per round trip while folding (small: the runner shares the loop).
FOLD_CHUNK = 5_000


async def bring_up_to_date(
    pool: asyncpg.Pool, projection: Projection, *, every: int = EVERY, keep: int = KEEP
) -> list[int]:
    """Save the snapshots due at multiples of `every` up to the log head (only those
    the newest `keep` will hold), folding from the newest usable one; then delete the
    unusable and the surplus. Returns the positions saved.

    Holds the projection's whole state in memory meanwhile (~500 MB for the deliveries
    at 1M events)."""
    async with pool.acquire() as conn:
        generation = await conn.fetchval(
            "SELECT generation FROM projections WHERE name = $1", projection.name
        )
        if generation is None:
            return []
        target = (await log_head(conn)) // every * every
        # boundaries older than the kept ones would be deleted at once: skip them
        lowest = max(every, target - (keep - 1) * every)
        have = set(await positions(conn, projection))
        due = [p for p in range(lowest, target + 1, every) if p not in have]
        saved: list[int] = []
        if due:
            found = await load(conn, projection, due[0])
            at, state = found if found is not None else (0, projection.empty())
            states: Mapping[str, State] = {projection.name: state}
            for boundary in due:
                await fold_log(
                    conn, [projection], boundary, start=at, states=states, chunk=FOLD_CHUNK
                )
                size = await save(conn, projection, generation, boundary, state)
                log.info("%s: fold snapshot at %d, %d bytes", projection.name, boundary, size)
                at = boundary
                saved.append(boundary)
        await prune(conn, projection, generation, keep)
    return saved


class SnapshotKeeper:
    """Keeps one projection's snapshots up to date while its runner runs: a round when
    the runner passes a multiple of `every` (`passed`), and every `recheck` seconds
    (after a rebuild, whose new generation makes the old ones unusable)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        projection: Projection,
        *,
        every: int = EVERY,
        keep: int = KEEP,
        recheck: float = 60.0,
    ) -> None:
        self.pool = pool
        self.projection = projection
        self.every = every
        self.keep = keep
        self.recheck = recheck
        self._due = asyncio.Event()
        self._due.set()  # a first round at start

    def committed(self, before: int, after: int) -> None:
        """The runner moved from `before` to `after`."""
        if after // self.every > before // self.every:
            self._due.set()

    async def run(self) -> None:
        pause = 0.0  # after a failure, rounds are spaced out (up to an hour)
        while True:
            if pause:
                await asyncio.sleep(pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), self.recheck)
            self._due.clear()
            try:
                await bring_up_to_date(self.pool, self.projection, every=self.every, keep=self.keep)
                pause = 0.0
            except asyncio.CancelledError:
                raise
            except UNAVAILABLE as exc:
                log.warning("%s: fold snapshot not taken (%s)", self.projection.name, exc)
                pause = min(max(2 * pause, self.recheck), 3600.0)
            except Exception:  # a cache: say so, and let the projection run on
                # (an event the fold cannot read stops the runner too, with its error)
                log.exception("%s: taking a fold snapshot failed", self.projection.name)
                pause = min(max(2 * pause, self.recheck), 3600.0)
