"""Waiting on a condition instead of sleeping: the one way tests wait for something
another process, task or thread does, so that a loaded machine only makes them slower.

A fixed sleep is a guess at how long that takes; past the guess the test fails, and
below it the test wastes time. These poll until the predicate holds, or fail with a
message saying what never happened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

INTERVAL = 0.05


class NeverHappened(AssertionError):
    """What a test waited for did not happen within its timeout."""


def wait_until(
    predicate: Callable[[], T], timeout: float, *, what: str = "", interval: float = INTERVAL
) -> T:
    """Call `predicate` until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise NeverHappened(f"not within {timeout} s: {what or predicate}")
        time.sleep(interval)


async def until(
    predicate: Callable[[], Awaitable[T] | T],
    timeout: float,  # noqa: ASYNC109 -- a deadline for the predicate, not for a call
    *,
    what: str = "",
    interval: float = INTERVAL,
) -> T:
    """`wait_until` for a test on the event loop: the predicate may be a coroutine
    function, and the loop runs the code under test between tries."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise NeverHappened(f"not within {timeout} s: {what or predicate}")
        await asyncio.sleep(interval)
