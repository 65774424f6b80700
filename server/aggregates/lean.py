"""A stream's first event decided without building its aggregate.

A `ServiceDelivered`, `PledgeMade`, `ChallengeReported` or `CommitmentMade` starts a
stream whose aggregate nothing in the same decision needs: its rules read only the
streams it refers to (partner, site, pledge, meeting, periods). So the service runs
the very rule function the aggregate's creating class method runs (one definition of
each rule, in the aggregate's module) and turns the event's data into its canonical
bytes, without the eventsourcing machinery of creating an aggregate object. The
aggregate of the new stream is built when the stream is next needed, from its stored
events through the library's mapper, as any cache miss is. `tests/aggregates/
test_lean.py` holds the two paths to the same decisions.

Each creation also names the fields of its data that its rules read: a batch decides
each distinct combination of those (with the same versions of the streams it refers
to) once. The tests check that a rule reads no field it does not name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas.events import EventData, stream_of
from server.aggregates import challenge, commitment, delivery, pledge
from server.aggregates.base import AlreadyExists
from server.aggregates.context import Context
from server.aggregates.registry import AGGREGATE_OF


@dataclass(frozen=True)
class Creation:
    """How the first event of one type is decided: its rules, what of its data they
    read, the error when the stream exists, and the schema version it is stored with
    (that of the aggregate's event class, as the aggregate path stores it)."""

    check: Callable[[Any, Context], None]
    reads: tuple[str, ...]
    exists: type[AlreadyExists]
    schema_version: int


def _creation(
    type_name: str,
    check: Callable[[Any, Context], None],
    reads: tuple[str, ...],
    exists: type[AlreadyExists],
) -> Creation:
    event_class = getattr(AGGREGATE_OF[type_name], type_name)
    return Creation(check, reads, exists, getattr(event_class, "class_version", 1))


CREATIONS: dict[str, Creation] = {
    "ServiceDelivered": _creation(
        "ServiceDelivered",
        delivery.check_record,
        delivery.RECORD_READS,
        delivery.DeliveryAlreadyRecorded,
    ),
    "PledgeMade": _creation(
        "PledgeMade", pledge.check_make, pledge.MAKE_READS, pledge.PledgeAlreadyMade
    ),
    "ChallengeReported": _creation(
        "ChallengeReported",
        challenge.check_report,
        challenge.REPORT_READS,
        challenge.ChallengeAlreadyReported,
    ),
    "CommitmentMade": _creation(
        "CommitmentMade",
        commitment.check_make,
        commitment.MAKE_READS,
        commitment.CommitmentAlreadyMade,
    ),
}


def check_first(type_name: str, data: EventData, ctx: Context) -> None:
    """Decide the first event of a new stream: return if it keeps every rule, or raise
    the RuleBroken that `registry.decide` would raise for the same event and context.
    What is stored and hashed is then the canonical JSON of `data`, as on the
    aggregate path."""
    CREATIONS[type_name].check(data, ctx)


def already_exists(type_name: str, data: EventData) -> AlreadyExists:
    """What `registry.decide` raises for a first event whose stream exists."""
    return CREATIONS[type_name].exists(f"{stream_of(type_name, data)} already exists")


def rule_inputs(type_name: str, data: EventData) -> tuple[object, ...]:
    """What of the event's data its rules read, as a key: two events of one type with
    equal keys, against the same versions of the same streams, are decided alike."""
    return tuple(getattr(data, name) for name in CREATIONS[type_name].reads)
