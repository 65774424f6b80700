"""Between domain events and the log: the contract form of a decided event, replay of
stored events through the eventsourcing Mapper (so upcasting applies), and snapshots."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import msgspec
from eventsourcing.domain import CanInitAggregate, CanMutateAggregate
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic

from schemas.events import EVENT_TYPES, SCHEMA_VERSIONS, EventData
from schemas.stored import StoredDecoder
from server.aggregates.base import HamkariAggregate, Snapshot
from server.aggregates.registry import AGGREGATE_OF
from server.eventstore.records import canonical_json


class StoredEventLike(Protocol):
    """What replay reads of an event from the log (server.eventstore.StoredEvent fits)."""

    @property
    def type(self) -> str: ...
    @property
    def schema_version(self) -> int: ...
    @property
    def stream(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def recorded_at(self) -> datetime.datetime: ...
    @property
    def data(self) -> bytes: ...


class _EventState(msgspec.Struct, kw_only=True, omit_defaults=True, tag="event", tag_field="kind"):
    """A domain event's state: the contract type and stored version say which Struct
    `data` is; `originator_topic` is only on events that create an aggregate."""

    type: str
    class_version: int
    timestamp: datetime.datetime
    data: msgspec.Raw
    originator_topic: str | None = None


class _SnapshotState(msgspec.Struct, kw_only=True, tag="snapshot", tag_field="kind"):
    """A snapshot's state; the aggregate's two datetimes are typed, the rest is JSON."""

    timestamp: datetime.datetime
    topic: str
    created_on: datetime.datetime
    modified_on: datetime.datetime
    state: dict[str, Any]


class MsgspecTranscoder(Transcoder):
    """The eventsourcing Transcoder for Hamkari events and snapshots, with msgspec.

    Output is canonical JSON (sorted keys). `structs` maps (contract type, schema
    version) to the Struct of `data`, for every version still in the log."""

    def __init__(self, structs: Mapping[tuple[str, int], type[EventData]] | None = None) -> None:
        if structs is None:
            structs = {(name, SCHEMA_VERSIONS[name]): cls for name, cls in EVENT_TYPES.items()}
        self._type_of = {cls: name for (name, _), cls in structs.items()}
        # stored data is read whatever it holds: text an older version accepted and this
        # one refuses still replays (schemas.stored)
        self._decoders = {key: StoredDecoder(cls) for key, cls in structs.items()}
        self._envelope = msgspec.json.Decoder(_EventState | _SnapshotState)

    def encode(self, obj: Any) -> bytes:
        state = dict(obj)
        envelope: _EventState | _SnapshotState
        if "data" in state:
            data = state.pop("data")
            try:
                type_name = self._type_of[type(data)]
            except KeyError:
                raise TypeError(f"{type(data).__name__} is not a registered event Struct") from None
            envelope = _EventState(
                type=type_name,
                class_version=state.pop("class_version", 1),
                timestamp=state.pop("timestamp"),
                data=msgspec.Raw(canonical_json(data)),
                originator_topic=state.pop("originator_topic", None),
            )
        else:
            aggregate_state = dict(state.pop("state"))
            envelope = _SnapshotState(
                timestamp=state.pop("timestamp"),
                topic=state.pop("topic"),
                created_on=aggregate_state.pop("_created_on"),
                modified_on=aggregate_state.pop("_modified_on"),
                state=aggregate_state,
            )
        if state:
            raise TypeError(f"cannot encode event attributes {sorted(state)}")
        return canonical_json(envelope)

    def event_state(
        self,
        type_name: str,
        class_version: int,
        timestamp: datetime.datetime,
        data: bytes,
        originator_topic: str | None,
    ) -> bytes:
        """The encoded state of a contract event, its `data` bytes embedded as they are."""
        return canonical_json(
            _EventState(
                type=type_name,
                class_version=class_version,
                timestamp=timestamp,
                data=msgspec.Raw(data),
                originator_topic=originator_topic,
            )
        )

    def decode(self, data: bytes) -> Any:
        envelope = self._envelope.decode(data)
        if isinstance(envelope, _SnapshotState):
            state = {
                "_created_on": envelope.created_on,
                "_modified_on": envelope.modified_on,
                **envelope.state,
            }
            return {"timestamp": envelope.timestamp, "topic": envelope.topic, "state": state}
        try:
            decoder = self._decoders[(envelope.type, envelope.class_version)]
        except KeyError:
            raise ValueError(f"no Struct for {envelope.type} v{envelope.class_version}") from None
        event: dict[str, Any] = {
            "timestamp": envelope.timestamp,
            "class_version": envelope.class_version,
            "data": decoder.decode(envelope.data),
        }
        if envelope.originator_topic is not None:
            event["originator_topic"] = envelope.originator_topic
        return event


class ContractMapper:
    """Contract events <-> domain events for a set of aggregates (by default, all).

    `aggregates` maps each contract type to the aggregate holding its event class."""

    def __init__(
        self,
        aggregates: Mapping[str, type[HamkariAggregate]] = AGGREGATE_OF,
        transcoder: MsgspecTranscoder | None = None,
    ) -> None:
        self.transcoder = transcoder or MsgspecTranscoder()
        self.mapper: Mapper[str] = Mapper(self.transcoder)
        self._topics: dict[str, tuple[str, str | None]] = {}
        for type_name, aggregate in aggregates.items():
            cls = getattr(aggregate, type_name)
            creates = issubclass(cls, CanInitAggregate)
            self._topics[type_name] = (get_topic(cls), get_topic(aggregate) if creates else None)

    def to_domain_event(self, stored: StoredEventLike) -> CanMutateAggregate[str]:
        topic, originator_topic = self._topics[stored.type]
        state = self.transcoder.event_state(
            stored.type, stored.schema_version, stored.recorded_at, stored.data, originator_topic
        )
        domain_event = self.mapper.to_domain_event(
            StoredEvent(
                originator_id=stored.stream,
                originator_version=stored.version,
                topic=topic,
                state=state,
            )
        )
        assert isinstance(domain_event, CanMutateAggregate)
        return domain_event

    def replay(
        self,
        stored: Iterable[StoredEventLike],
        snapshot: HamkariAggregate | Snapshot | None = None,
    ) -> HamkariAggregate | None:
        aggregate: HamkariAggregate | None
        if isinstance(snapshot, Snapshot):
            restored = snapshot.mutate(None)
            assert isinstance(restored, HamkariAggregate)
            aggregate = restored
        else:
            aggregate = snapshot
        for item in sorted(stored, key=lambda e: e.version):
            if aggregate is not None and item.version <= aggregate.version:
                continue
            aggregate = self.to_domain_event(item).mutate(aggregate)
        return aggregate

    def take_snapshot(self, aggregate: HamkariAggregate) -> tuple[str, int, bytes]:
        stored = self.mapper.to_stored_event(Snapshot.take(aggregate))
        return get_topic(type(aggregate)), aggregate.version, stored.state

    def restore_snapshot(self, topic: str, version: int, state: bytes) -> HamkariAggregate:
        stream = self.transcoder.decode(state)["state"]["_id"]
        snapshot = self.mapper.to_domain_event(
            StoredEvent(
                originator_id=stream,
                originator_version=version,
                topic=get_topic(Snapshot),
                state=state,
            )
        )
        assert isinstance(snapshot, Snapshot)
        if snapshot.topic != topic:
            raise ValueError(f"snapshot of {snapshot.topic} restored as {topic}")
        aggregate = snapshot.mutate(None)
        assert isinstance(aggregate, HamkariAggregate)
        return aggregate


_contract = ContractMapper()


def to_contract(domain_event: object) -> tuple[str, int, bytes]:
    """(contract type, schema version, canonical JSON of data) of a decided event."""
    data = getattr(domain_event, "data", None)
    if not isinstance(data, EventData):
        raise TypeError(f"{type(domain_event).__name__} carries no contract data")
    event_cls = type(domain_event)
    return event_cls.__name__, getattr(event_cls, "class_version", 1), canonical_json(data)


def replay(
    stored: Iterable[StoredEventLike], snapshot: HamkariAggregate | Snapshot | None = None
) -> HamkariAggregate | None:
    """The aggregate rebuilt from `snapshot` (an aggregate, advanced in place, or a
    Snapshot) and the stored events after it, in version order; None if neither."""
    return _contract.replay(stored, snapshot)


def take_snapshot(aggregate: HamkariAggregate) -> tuple[str, int, bytes]:
    """(aggregate topic, version, state bytes) to store; pending events are not kept."""
    return _contract.take_snapshot(aggregate)


def restore_snapshot(topic: str, version: int, state: bytes) -> HamkariAggregate:
    """The aggregate as `take_snapshot` saw it."""
    return _contract.restore_snapshot(topic, version, state)
