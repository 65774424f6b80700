"""Following the log live: LISTEN/NOTIFY wakes the follower, a poll covers lost
notifications and reconnects; events arrive in position order, each exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg

from server.eventstore.appender import NOTIFY_CHANNEL, UNAVAILABLE
from server.eventstore.records import StoredEvent
from server.eventstore.store import EventStore

log = logging.getLogger(__name__)


class LogFollower:
    """Yields batches of events after `after`, forever, until closed.

    The listening connection is separate from the pool; when it breaks, the
    follower falls back to polling and re-listens on the next round.
    """

    def __init__(
        self,
        store: EventStore,
        connect: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
        *,
        after: int = 0,
        batch_size: int = 1000,
        poll_interval: float = 2.0,
    ) -> None:
        self.store = store
        self.position = after
        self._connect = connect
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._woken = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._closed = False

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        # the payload is only a hint; a bad one is logged and the read still happens
        try:
            if int(str(payload)) <= self.position:
                return
        except ValueError:
            log.warning("ignoring malformed notification payload %r", payload)
        self._woken.set()

    async def _ensure_listening(self) -> None:
        if self._connect is None or self._listener is not None:
            return
        try:
            conn = await self._connect()
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            conn.add_termination_listener(self._on_lost)
            self._listener = conn
        except UNAVAILABLE as exc:
            log.warning("cannot listen for new events (%s); polling", exc)

    def _on_lost(self, _conn: object) -> None:
        self._listener = None
        self._woken.set()

    async def close(self) -> None:
        self._closed = True
        self._woken.set()
        if self._listener is not None:
            with contextlib.suppress(*UNAVAILABLE):
                await self._listener.close()
            self._listener = None

    async def batches(self) -> AsyncIterator[list[StoredEvent]]:
        while not self._closed:
            await self._ensure_listening()
            # cleared before the read: a notify that lands during it wakes the next wait
            self._woken.clear()
            try:
                events = await self.store.read_log(self.position, self._batch_size)
            except UNAVAILABLE as exc:
                log.warning("reading the log failed (%s); retrying", exc)
                events = []
            if events:
                self.position = events[-1].position
                yield events
                if len(events) == self._batch_size:
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._poll_interval)
