"""Limits that keep one client from starving the others: a per-token rate limit (429
with Retry-After) and a time limit on every request (503 with Retry-After).

The rate limit is a token bucket per bearer token, kept in each worker's memory: with
N workers each enforces rate/N, which holds on average as the server spreads
connections over its workers. The time limit stops counting once a response has
started, so streamed answers (the live feed, exports) run as long as they need."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.api.headers import header
from server.api.problems import ProblemDetail
from server.auth.tokens import hash_token
from server.observability.metrics import RATE_LIMITED, TIMED_OUT


@dataclass
class TokenBuckets:
    """`rate` requests a second per key on average, bursts of up to `burst`."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 50_000
    _buckets: dict[bytes, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: bytes) -> float:
        """Spend one request; 0 when allowed, else the seconds until one is allowed."""
        now = self.clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > self.max_keys:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        # a full bucket is the same as none: forgetting it bounds memory against
        # clients that send many made-up tokens
        full = [
            key
            for key, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]


def _bearer(scope: Scope) -> bytes | None:
    scheme, _, token = header(scope, b"authorization").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return hash_token(token.strip())
    return None


def rate_limiting(rate: float, burst: int) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware: 429 for a token past its budget. Requests without a token pass (they
    get a 401 that costs nothing); `rate` 0 turns the limit off."""

    def wrap(app: ASGIApp) -> ASGIApp:
        if rate <= 0:
            return app
        buckets = TokenBuckets(rate, max(1, burst))

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            key = _bearer(scope) if scope["type"] == ScopeType.HTTP else None
            if key is not None:
                wait = buckets.take(key)
                if wait > 0:
                    RATE_LIMITED.inc()
                    raise ProblemDetail(
                        429,
                        "rate-limited",
                        "Too many requests",
                        f"this token may make {rate:g} requests a second (bursts of "
                        f"{burst}); retry after the time in Retry-After",
                        retry_after=max(1, math.ceil(wait)),
                    )
            await app(scope, receive, send)

        return middleware

    return wrap


class Deadlines:
    """Requests that must start their answers by a deadline, and a timer that cancels
    those that have not. Deadlines are rounded up to a tick (a quarter of the limit, at
    most a second), so one timer serves every request falling due in the same tick: a
    timer per request (asyncio.timeout) was 4% of a single post (docs/benchmarks.md)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.tick = min(1.0, seconds / 4)
        self._due: dict[int, set[asyncio.Task[Any]]] = {}
        self._expired: set[asyncio.Task[Any]] = set()

    def watch(self, task: asyncio.Task[Any]) -> int:
        """Start the clock for `task`; the tick it falls due in, for `release`."""
        loop = asyncio.get_running_loop()
        tick = math.ceil((loop.time() + self.seconds) / self.tick)
        tasks = self._due.get(tick)
        if tasks is None:
            tasks = self._due[tick] = set()
            loop.call_at(tick * self.tick, self._expire, tick)
        tasks.add(task)
        return tick

    def release(self, tick: int, task: asyncio.Task[Any]) -> None:
        tasks = self._due.get(tick)
        if tasks is not None:
            tasks.discard(task)

    def expired(self, task: asyncio.Task[Any]) -> bool:
        """Whether `task` was cancelled for its deadline (and forget that it was)."""
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    def _expire(self, tick: int) -> None:
        for task in self._due.pop(tick, ()):
            self._expired.add(task)
            task.cancel()


def request_timeouts(seconds: float) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware: a request that has not started its response after `seconds` (and at
    most a quarter of that, or a second, later) is cancelled and answered 503. An append
    it queued still commits or fails as a whole; retrying with the same event ids is
    safe either way."""

    def wrap(app: ASGIApp) -> ASGIApp:
        if seconds <= 0:
            return app
        deadlines = Deadlines(seconds)

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            task = asyncio.current_task()
            if scope["type"] != ScopeType.HTTP or task is None:
                await app(scope, receive, send)
                return
            tick = deadlines.watch(task)

            async def send_started(message: Message) -> None:
                if message["type"] == "http.response.start":
                    deadlines.release(tick, task)
                await send(message)

            try:
                await app(scope, receive, send_started)
            except asyncio.CancelledError:
                if not deadlines.expired(task):
                    raise  # a cancellation not ours: the client left, the server stops
                task.uncancel()
                TIMED_OUT.inc()
                raise ProblemDetail(
                    503,
                    "request-timeout",
                    "Request took too long",
                    f"the server could not answer within {seconds:g} s; retrying with the "
                    "same event ids is safe",
                    retry_after=2,
                ) from None
            finally:
                deadlines.release(tick, task)
                # a deadline's cancel that the app swallowed is forgotten with it
                deadlines.expired(task)

        return middleware

    return wrap
