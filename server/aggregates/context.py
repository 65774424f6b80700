"""What a decision may know beyond its own stream: today's date in Tehran, the other
aggregates the service loaded for it, and which event ids exist."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from server.aggregates.base import HamkariAggregate

A = TypeVar("A", bound=HamkariAggregate)


@dataclass(frozen=True)
class Context:
    """Everything outside the aggregate that its rules read; supplied by the service.

    `today` is the date in Asia/Tehran. `related` holds the streams that
    `registry.related_streams` named, by stream name (None: the stream does not
    exist). `known_event_ids` are ids known to be in the log or earlier in the batch."""

    today: datetime.date
    related: Mapping[str, HamkariAggregate | None] = field(default_factory=dict)
    known_event_ids: frozenset[uuid.UUID] = frozenset()

    def aggregate(self, stream: str, cls: type[A]) -> A | None:
        """The related aggregate of that stream, or None when the stream does not exist.

        A stream the service did not load is a programming error, not a broken rule."""
        try:
            found = self.related[stream]
        except KeyError:
            raise LookupError(f"{stream} was not loaded into the context") from None
        if found is not None and not isinstance(found, cls):
            raise TypeError(f"{stream} holds a {type(found).__name__}, not a {cls.__name__}")
        return found
