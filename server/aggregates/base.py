"""What every Hamkari aggregate shares: string ids (stream names), event base classes,
snapshots for string ids, and the domain errors the API turns into 422 problems."""

from __future__ import annotations

import datetime
import re
from typing import Any, ClassVar, Self

import msgspec
from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    CanSnapshotAggregate,
    MetaDomainEvent,
    MutableOrImmutableAggregate,
)
from eventsourcing.utils import get_topic

_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class RuleBroken(Exception):
    """A command breaks one of the contract's rules; nothing may be appended.

    `rule` is a stable kebab-case slug: the API puts it in the problem `type` URI.
    Every subclass names its own rule."""

    rule: ClassVar[str] = "rule-broken"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if "rule" not in cls.__dict__ or not _SLUG.match(cls.rule):
            raise TypeError(f"{cls.__name__} must name its rule as a kebab-case slug")


class NotFound(RuleBroken):
    """The stream the command needs (its own or one it refers to) does not exist."""

    rule = "not-found"


class AlreadyExists(RuleBroken):
    """A create-command names a stream that already exists."""

    rule = "already-exists"


class PeriodEndsBeforeStart(RuleBroken):
    """A pledge's or a delivery's period_end is before its period_start."""

    rule = "period-ends-before-start"


def check_period_order(start: datetime.date, end: datetime.date) -> None:
    if end < start:
        raise PeriodEndsBeforeStart(f"period_end {end} is before period_start {start}")


def plain(value: Any) -> Any:
    """A contract value as aggregate state: exactly what JSON gives back (dates and
    UUIDs as strings, Structs as dicts, tuples as lists), so snapshots round-trip."""
    return msgspec.json.decode(msgspec.json.encode(value))


class HamkariEvent(CanMutateAggregate[str], metaclass=MetaDomainEvent):
    """A domain event of an aggregate whose id is its stream name.

    The library's own event bases insist on UUID ids; Hamkari's stream names are
    strings (`pledge-<uuid>`, `partner-nrc`, `periods`)."""

    originator_id: str
    originator_version: int
    timestamp: datetime.datetime


class HamkariCreated(CanInitAggregate[str], HamkariEvent):
    """The first event of a stream: it names the aggregate class that it creates."""

    originator_topic: str


class HamkariAggregate(BaseAggregate[str]):
    """Base of the aggregates: id = stream name, state = plain JSON data.

    State holds only str, int, bool, None, lists and dicts of those (dates as ISO
    strings, money as decimal strings), so snapshots round-trip exactly. Each event
    class is named like its contract type and carries one attribute, `data`, the
    contract Struct. Commands check their rules first, then trigger their event."""

    class Event(HamkariEvent):
        pass

    class Created(Event, HamkariCreated):
        pass


class Snapshot(CanSnapshotAggregate[str], metaclass=MetaDomainEvent):
    """The state of an aggregate at a version (the library's Snapshot needs UUID ids).

    Unlike the library's, the state keeps `_id`, so the stored bytes alone say which
    stream they belong to."""

    originator_id: str
    originator_version: int
    timestamp: datetime.datetime
    topic: str
    state: dict[str, Any]

    @classmethod
    def take(cls, aggregate: MutableOrImmutableAggregate[str]) -> Self:
        state = dict(vars(aggregate))
        state.pop("_version", None)
        state.pop("_pending_events", None)
        class_version = getattr(type(aggregate), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return cls(  # type: ignore[call-arg]
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state=state,
        )
