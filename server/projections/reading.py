"""Answering a report: from the live tables (optionally after waiting until they
reflect a position the reader wrote at), or as the log stood at a past position.

A live answer reads the projections' positions and rows in one REPEATABLE READ
snapshot taken after locking the tables, so `as_of_position` is exactly what the
rows reflect even while a rebuild swaps tables in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import asyncpg

from server.projections.catalog import REPORTS, projections_named
from server.projections.decoding import log_head
from server.projections.history import at_position
from server.projections.model import Conn
from server.projections.persistence import live_names
from server.projections.tracking import Standing, standings

T = TypeVar("T")
Query = Callable[[Conn, Mapping[str, str]], Awaitable[T]]


class PositionBeyondHead(Exception):
    """A position after the last event in the log."""

    def __init__(self, parameter: str, position: int, head: int) -> None:
        super().__init__(f"{parameter}={position} is beyond the log's last position, {head}")
        self.head = head


class NotCaughtUp(Exception):
    """The report's projections did not reach `min_position` in time (or cannot)."""

    def __init__(self, wanted: int, reached: int, error: str | None) -> None:
        why = f"; {error}" if error else ""
        super().__init__(f"the report reflects position {reached}, not yet {wanted}{why}")
        self.wanted = wanted
        self.reached = reached
        self.stopped = error is not None


@dataclass
class Answer(Generic[T]):
    as_of_position: int
    body: T
    warnings: list[str] = field(default_factory=list)
    #: every projection read stood at `as_of_position` (a live read may find them apart:
    #: then the answer mixes positions, which an attestation must not sign)
    settled: bool = True


class ReportReader:
    """Reads reports for the API and the CLI; holds the bounds on waiting and history."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        wait_max: float = 5.0,
        history_slots: int = 1,
        primary: asyncpg.Pool | None = None,
    ) -> None:
        self.pool = pool
        # `pool` may be a hot standby's: a receipt's position is judged against the
        # primary's head (the standby may not have replayed it yet, and is then waited
        # for), while the projections and their rows are read where `pool` reads
        self.primary = pool if primary is None else primary
        self.wait_max = wait_max
        # folding the log for a past position is CPU-heavy: a few at a time per process
        self._history = asyncio.Semaphore(history_slots)

    async def read(
        self,
        report: str,
        query: Query[T],
        *,
        at: int | None = None,
        min_position: int | None = None,
    ) -> Answer[T]:
        names = REPORTS[report]
        if at is None and min_position is not None:
            await self.wait_for(names, min_position)
        return await self.read_at(names, query, at)

    async def read_at(self, names: tuple[str, ...], query: Query[T], at: int | None) -> Answer[T]:
        """`query` over the projections `names`, live (`at` None) or as the log stood
        at position `at`: the dashboard's pages read this way, the reports through `read`."""
        if at is None:
            return await self.read_live(names, query)
        # on the primary: the fold writes temporary tables, which a hot standby refuses
        head = await log_head(self.primary)
        if at > head:
            raise PositionBeyondHead("at_position", at, head)
        async with self._history:
            body = await at_position(self.primary, projections_named(names), at, query)
        return Answer(at, body)

    async def wait_for(self, names: tuple[str, ...], position: int) -> None:
        """Return once every projection in `names` reached `position`, within wait_max."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_max
        delay = 0.005
        head = await log_head(self.primary)
        if position > head:
            raise PositionBeyondHead("min_position", position, head)
        while True:
            found = await standings(self.pool, names)
            reached = as_of(found)
            if reached >= position:
                return
            errors = [f"projection {n} is stopped: {s.error}" for n, s in found.items() if s.error]
            if errors:
                raise NotCaughtUp(position, reached, errors[0])
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise NotCaughtUp(position, reached, None)
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.05)

    async def read_live(self, names: tuple[str, ...], query: Query[T]) -> Answer[T]:
        tables: dict[str, str] = {}
        for projection in projections_named(names):
            tables.update(live_names(projection))
        async with (
            self.pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            # lock first: the snapshot is taken by the first query, after the lock,
            # so a swap either happened wholly before it or waits for this read
            await conn.execute(
                f"LOCK TABLE {', '.join(sorted(tables.values()))} IN ACCESS SHARE MODE"
            )
            found = await standings(conn, names)
            body = await query(conn, tables)
        settled = len({s.position for s in found.values()}) <= 1
        return Answer(as_of(found), body, warnings(found), settled)


def as_of(found: Mapping[str, Standing]) -> int:
    """The position a multi-projection answer reflects in full: the lowest of theirs."""
    return min((s.position for s in found.values()), default=0)


def warnings(found: Mapping[str, Standing]) -> list[str]:
    return [
        f"projection {name} is stopped at position {s.position}: {s.error}"
        for name, s in sorted(found.items())
        if s.error
    ]
