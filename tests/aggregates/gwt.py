"""Given/when/then for the aggregates: past events build a small world of streams,
a command decides against it, then the new event or the broken rule is asserted."""

from __future__ import annotations

import copy
import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

import msgspec

from schemas.events import EVENT_TYPES, EventData, stream_of
from server.aggregates.base import HamkariAggregate, RuleBroken
from server.aggregates.context import Context
from server.aggregates.mapping import to_contract
from server.aggregates.registry import decide, related_streams
from server.eventstore import StoredEvent, leaf_hash
from server.eventstore.records import Entry, Metadata, encode_entry
from tests import builders as b

#: "Today" in Tehran for every scenario: after the builders' March 2025 deliveries.
TODAY = datetime.date(2025, 4, 15)

Data = dict[str, Any]


def as_data(type_name: str, data: Data) -> EventData:
    """The Struct a client's JSON decodes to, validated as the API validates it."""
    return msgspec.json.decode(msgspec.json.encode(data), type=EVENT_TYPES[type_name])


@dataclass
class Recorded:
    """One decided event: its type, stream, the domain event, and the state after it."""

    type: str
    stream: str
    event: Any
    state: HamkariAggregate


@dataclass
class World:
    today: datetime.date = TODAY
    streams: dict[str, HamkariAggregate] = field(default_factory=dict)
    event_ids: set[uuid.UUID] = field(default_factory=set)
    log: list[Recorded] = field(default_factory=list)

    def context(self, type_name: str, data: EventData) -> Context:
        current = self.streams.get(stream_of(type_name, data))
        wanted = related_streams(type_name, data, current)
        return Context(
            today=self.today,
            related={s: self.streams.get(s) for s in wanted},
            known_event_ids=frozenset(self.event_ids),
        )

    def record(self, type_name: str, data: Data | EventData) -> Any:
        """Decide one event and keep it, as the service would after appending it."""
        struct = data if isinstance(data, EventData) else as_data(type_name, data)
        stream = stream_of(type_name, struct)
        current = copy.deepcopy(self.streams.get(stream))
        aggregate = decide(type_name, current, struct, self.context(type_name, struct))
        [event] = aggregate.collect_events()
        self.streams[stream] = aggregate
        self.event_ids.add(uuid.uuid4())
        self.log.append(Recorded(type_name, stream, event, copy.deepcopy(aggregate)))
        return event

    def when(self, type_name: str, data: Data | EventData) -> Outcome:
        try:
            event = self.record(type_name, data)
        except RuleBroken as error:
            return Outcome(type_name, None, error, self)
        return Outcome(type_name, event, None, self)

    def __getitem__(self, stream: str) -> Any:
        return self.streams[stream]


@dataclass
class Outcome:
    type_name: str
    event: Any
    error: RuleBroken | None
    world: World

    def then(self, type_name: str | None = None) -> Any:
        """The command was accepted: one event of the command's type, carrying its data."""
        assert self.error is None, f"rejected: {self.error.rule}: {self.error}"
        assert type(self.event).__name__ == (type_name or self.type_name)
        assert isinstance(self.event.data, EVENT_TYPES[self.type_name])
        return self.event

    def then_rejected(self, error: type[RuleBroken]) -> RuleBroken:
        """The command broke exactly this rule, and nothing was decided."""
        assert self.event is None, f"accepted {type(self.event).__name__}, expected {error.rule}"
        found = self.error
        assert isinstance(found, error), f"{found!r} is not {error.__name__}"
        assert found.rule == error.rule
        return found


def given(*events: tuple[str, Data], today: datetime.date = TODAY) -> World:
    world = World(today=today)
    for type_name, data in events:
        world.record(type_name, data)
    return world


def registered(*more: tuple[str, Data], today: datetime.date = TODAY) -> World:
    """A world with partners `nrc` and `bafia` and site `gol-tappeh` registered."""
    return given(
        ("PartnerRegistered", b.partner_registered()),
        ("PartnerRegistered", b.partner_registered("bafia", kind="directorate", country="IR")),
        ("SiteRegistered", b.site_registered()),
        *more,
        today=today,
    )


def stored_event(
    type_name: str,
    schema_version: int,
    stream: str,
    version: int,
    data: bytes,
    recorded_at: datetime.datetime,
) -> StoredEvent:
    """An event as the store gives it back: the canonical entry around `data`."""
    entry = Entry(
        position=version,
        id=uuid.uuid4(),
        type=type_name,
        stream=stream,
        version=version,
        schema_version=schema_version,
        recorded_at=recorded_at,
        metadata=Metadata(role="partner", partner_id="nrc"),
        data=msgspec.Raw(data),
    )
    raw = encode_entry(entry)
    return StoredEvent(
        position=entry.position,
        id=entry.id,
        type=type_name,
        stream=stream,
        version=version,
        schema_version=schema_version,
        recorded_at=recorded_at,
        entry=raw,
        leaf_hash=leaf_hash(raw),
    )


def stored(recorded: Recorded) -> StoredEvent:
    """A decided event as appended: its contract form, recorded when it was decided."""
    type_name, schema_version, data = to_contract(recorded.event)
    event = recorded.event
    return stored_event(
        type_name, schema_version, recorded.stream, event.originator_version, data, event.timestamp
    )
