"""The live feed of the log (`text/event-stream` on `GET /v1/events`): events in
position order from a resumption point, until the client leaves or its token is revoked.

A revoked token ends everything it had open (API.md "Users and roles"): a feed looks
its token up every few seconds and ends within the contract's five."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import asyncpg
import msgspec
from litestar.response import ServerSentEventMessage

from schemas.envelope import LoggedEvent
from server.auth.tokens import look_up
from server.eventstore import EventStore, LogFollower, StoredEvent
from server.eventstore.appender import UNAVAILABLE

log = logging.getLogger(__name__)

# how often an open feed looks its token up again: one indexed read per feed, and the
# feed ends well inside the five seconds the contract allows after a revoke
TOKEN_CHECK_SECONDS = 2.0

_encoder = msgspec.json.Encoder()


async def live_feed(
    store: EventStore,
    token_hash: bytes,
    after: int,
    poll: float,
    envelope: Callable[[StoredEvent], LoggedEvent],
    *,
    tokens: asyncpg.Pool | None = None,
) -> AsyncIterator[ServerSentEventMessage]:
    """Each event after `after` as one message (`id`: its position, `event`: its type,
    `data`: its `envelope`), as it is appended; the stream ends once the token with
    this hash is no longer active.

    `store` may read a hot standby; the token is looked up in `tokens` (the primary's
    pool; `store`'s when None), so a revoke ends the feed however far the standby lags."""
    follower = LogFollower(store, None, after=after, poll_interval=min(poll, 1.0))
    # a follower waits quietly while nothing is appended: the watch closes it, so an
    # idle feed ends too
    watch = asyncio.create_task(_close_when_revoked(tokens or store.pool, token_hash, follower))
    try:
        async for batch in follower.batches():
            if watch.done():  # revoked while this batch was read: none of it goes out
                break
            for event in batch:
                yield ServerSentEventMessage(
                    data=_encoder.encode(envelope(event)).decode(),
                    id=str(event.position),
                    event=event.type,
                )
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
        await follower.close()


async def _close_when_revoked(pool: asyncpg.Pool, token_hash: bytes, follower: LogFollower) -> None:
    while True:
        await asyncio.sleep(TOKEN_CHECK_SECONDS)
        try:
            active = await look_up(pool, token_hash) is not None
        except UNAVAILABLE as exc:
            # nothing is delivered without the database either; look again next time
            log.warning("cannot check a live feed's token (%s); will retry", exc)
            continue
        if not active:
            await follower.close()
            return
