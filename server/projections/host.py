"""This process's share of the projections: one task per projection, running it only
while this process holds its advisory lock; and the rebuilds asked of this process.

One dedicated connection holds the session locks and LISTENs for new events. If it
dies, PostgreSQL releases the locks, another process takes the projections over
within `lock_retry` seconds, and this one stops writing until it gets them back.
Even a runner that still believes it holds a lock cannot write twice: its commit
checks the projection's position and generation under a row lock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

import asyncpg

from server.config import Settings
from server.database.roles import app_dsn
from server.eventstore.appender import NOTIFY_CHANNEL, UNAVAILABLE
from server.projections import snapshots
from server.projections.catalog import PROJECTIONS
from server.projections.model import Projection
from server.projections.rebuild import rebuild
from server.projections.runner import ProjectionRunner, ProjectionStopped, follow
from server.projections.tracking import ensure, lock_key, record_error, standings

log = logging.getLogger(__name__)


def app_connector(dsn: str, settings: Settings) -> Callable[[], Awaitable[asyncpg.Connection]]:
    """Opens the host's dedicated connection, logged in as the application role (`dsn`
    is the owner's; server/database/roles.py)."""
    login = app_dsn(dsn, settings)

    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(
            login, server_settings={"application_name": "hamkari-projections"}
        )

    return connect


class ProjectionHost:
    def __init__(
        self,
        pool: asyncpg.Pool,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        *,
        projections: Iterable[Projection] | None = None,
        batch_size: int = 5000,
        poll_interval: float = 2.0,
        lock_retry: float = 5.0,
        standby: float = 0.0,
        snapshot_every: int | None = snapshots.EVERY,
        snapshot_keep: int = snapshots.KEEP,
        step_interval: float = 0.0,
    ) -> None:
        self.pool = pool
        self._connect = connect
        chosen = list(PROJECTIONS.values() if projections is None else projections)
        self.runners = {
            p.name: ProjectionRunner(
                pool,
                p,
                batch_size=batch_size,
                snapshot_every=snapshot_every,
                snapshot_keep=snapshot_keep,
            )
            for p in chosen
        }
        self.poll_interval = poll_interval
        self.lock_retry = lock_retry
        # seconds before the first try for a lock: a standby process (an HTTP worker
        # next to `hamkari serve`'s projector) lets the projector take them first
        self.standby = standby
        # a caught-up runner steps at most this often (server/projections/runner.py)
        self.step_interval = step_interval
        self.rebuilds: dict[str, asyncio.Task[dict[str, int]]] = {}
        self._conn: asyncpg.Connection | None = None
        self._conn_lock = asyncio.Lock()
        self._held: set[str] = set()
        self._epoch = 0
        self._woken = {name: asyncio.Event() for name in self.runners}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closing = False

    @classmethod
    def configured(
        cls, pool: asyncpg.Pool, dsn: str, settings: Settings, *, standby: float = 0.0
    ) -> ProjectionHost:
        """A host for every projection, tuned by the operator's settings."""
        return cls(
            pool,
            app_connector(dsn, settings),
            batch_size=settings.projection_batch,
            poll_interval=settings.poll_interval,
            lock_retry=settings.projection_lock_retry,
            standby=standby,
            snapshot_every=settings.projection_snapshot_every or None,
            snapshot_keep=settings.projection_snapshot_keep,
            step_interval=settings.projection_step_interval,
        )

    @property
    def held(self) -> frozenset[str]:
        """The projections this process is running now."""
        return frozenset(self._held)

    async def start(self, *, run: bool = True) -> None:
        """Register the projections; with `run`, start competing for running them."""
        await ensure(self.pool, self.runners)
        if not run:
            return
        for name in self.runners:
            self._tasks[name] = asyncio.create_task(self._run(name), name=f"projection-{name}")

    async def close(self, grace: float = 10.0) -> None:
        """Stop at a batch boundary: each runner ends after the batch it is writing (for
        up to `grace` seconds; a batch cancelled after that rolls back whole)."""
        self._closing = True
        self.wake()
        # only the runners of projections held here may be writing; the others are
        # waiting to take a lock over and are simply cancelled
        writing = [task for name, task in self._tasks.items() if name in self._held]
        if writing:
            await asyncio.wait(writing, timeout=grace)
        tasks = [*self._tasks.values(), *self.rebuilds.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._conn is not None:
            with contextlib.suppress(*UNAVAILABLE, asyncpg.PostgresError):
                await self._conn.close()
            self._conn = None
        self._held.clear()

    def wake(self) -> None:
        for event in self._woken.values():
            event.set()

    # -- the dedicated connection: locks and notifications ---------------------------
    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            conn = await self._connect()
            conn.add_termination_listener(self._on_lost)
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            self._conn = conn
        return self._conn

    def _on_notify(self, *_: object) -> None:
        self.wake()

    def _on_lost(self, conn: object) -> None:
        if conn is self._conn:
            log.warning("projection lock connection lost; giving up %s", sorted(self._held))
            self._conn = None
            self._held.clear()
            self._epoch += 1
            self.wake()

    async def _try_lock(self, name: str) -> bool:
        async with self._conn_lock:
            try:
                conn = await self._connection()
                got = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(name)))
            except (*UNAVAILABLE, asyncpg.PostgresError) as exc:
                log.warning("cannot take the lock of %s (%s)", name, exc)
                return False
        if got:
            self._held.add(name)
        return got

    # -- one task per projection ------------------------------------------------------
    async def _run(self, name: str) -> None:
        runner = self.runners[name]
        if self.standby:
            await asyncio.sleep(self.standby)
        while not self._closing:
            if name not in self._held and not await self._try_lock(name):
                await asyncio.sleep(self.lock_retry)
                continue
            epoch = self._epoch
            runner.standing = None  # whoever ran it before may have moved it on

            def ours(epoch: int = epoch) -> bool:
                return not self._closing and name in self._held and self._epoch == epoch

            try:
                await follow(
                    runner,
                    self._woken[name],
                    poll_interval=self.poll_interval,
                    still_ours=ours,
                    step_interval=self.step_interval,
                )
            except ProjectionStopped as exc:
                log.error("%s", exc)
                await self._until_cleared(name, ours)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug outside the folds: stop, say so, never skip
                log.exception("projection %s failed", name)
                with contextlib.suppress(*UNAVAILABLE, asyncpg.PostgresError):
                    position = (runner.standing.position + 1) if runner.standing else None
                    await record_error(self.pool, name, position, f"{type(exc).__name__}: {exc}")
                await self._until_cleared(name, ours)

    async def _until_cleared(self, name: str, ours: Callable[[], bool]) -> None:
        """A stopped projection waits until a rebuild clears its error (or it is let go)."""
        while ours():
            await asyncio.sleep(self.poll_interval)
            with contextlib.suppress(*UNAVAILABLE, asyncpg.PostgresError):
                found = (await standings(self.pool, [name])).get(name)
                if found is not None and found.error is None:
                    return

    # -- rebuilds ---------------------------------------------------------------------
    def request_rebuild(self, names: Iterable[str]) -> asyncio.Task[dict[str, int]]:
        """Start rebuilding in the background; the task's result is the new positions."""
        chosen = [PROJECTIONS[name] for name in names]
        key = ",".join(sorted(p.name for p in chosen))
        running = self.rebuilds.get(key)
        if running is not None and not running.done():
            return running
        task = asyncio.create_task(rebuild(self.pool, chosen), name=f"rebuild-{key}")
        task.add_done_callback(lambda t: self._rebuilt(key, t))
        self.rebuilds[key] = task
        return task

    def _rebuilt(self, key: str, task: asyncio.Task[dict[str, int]]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("rebuild of %s failed: %s", key, task.exception())
        self.wake()
