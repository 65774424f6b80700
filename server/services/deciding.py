"""Deciding a batch: what every event of a request would append, in order, against the
streams it touches, without appending anything (server/services/posting.py appends).

The batch is decided as a batch. Every stream it writes and every stream those read
are loaded in two round trips before the first event is looked at. An event that
starts its stream (a delivery, a pledge, a challenge, a commitment) is decided by its
aggregate's rule function alone (server/aggregates/lean.py), once for each distinct
combination of what those rules read; its aggregate is built only if a later event of
the batch needs the stream. Every other event goes through its aggregate, on a
private copy, as the eventsourcing model says."""

from __future__ import annotations

import asyncio
import copy
import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from schemas.envelope import EventIn, type_of
from schemas.events import stream_of
from server.aggregates.base import HamkariAggregate, RuleBroken
from server.aggregates.context import Context
from server.aggregates.lean import CREATIONS, already_exists, check_first, rule_inputs
from server.aggregates.mapping import replay, to_contract
from server.aggregates.partner import check_partner_may_post
from server.aggregates.registry import decide, evidence_ids, related_streams
from server.auth.permissions import check_owns
from server.auth.tokens import Principal, Role
from server.eventstore import EventStore, Metadata, NewEvent, VersionConflict, canonical_json
from server.services.repository import AggregateRepository

# a long batch's decision lets the event loop run other work every so many events
YIELD_EVERY = 10


@dataclass(frozen=True)
class Batch:
    """A request's envelopes with what every step asks of them, worked out once."""

    envelopes: Sequence[EventIn]
    types: list[str]
    streams: list[str]
    # the client's ids; events without one get a fresh id now, so that every
    # re-decision of this request appends the same ids
    ids: list[uuid.UUID]
    metadata: Metadata
    token: bytes | None

    @classmethod
    def of(cls, envelopes: Sequence[EventIn], metadata: Metadata, token: bytes | None) -> Batch:
        types = [type_of(envelope) for envelope in envelopes]
        return cls(
            envelopes=envelopes,
            types=types,
            streams=[stream_of(t, e.data) for t, e in zip(types, envelopes, strict=True)],
            ids=[envelope.id or uuid.uuid4() for envelope in envelopes],
            metadata=metadata,
            token=token,
        )


@dataclass
class Decision:
    events: list[NewEvent] = field(default_factory=list)
    # streams read and not written, at the version the decision saw
    unchanged: dict[str, int] = field(default_factory=dict)
    # streams changed through their aggregates: the repository caches these
    aggregates: dict[str, HamkariAggregate] = field(default_factory=dict)
    # streams started without an aggregate: the repository forgets them
    started: list[str] = field(default_factory=list)
    versions_before: dict[str, int] = field(default_factory=dict)


class _Started:
    """A stream's first event decided in this batch, as replay reads a stored one."""

    version = 1

    def __init__(self, event: NewEvent, recorded_at: datetime.datetime) -> None:
        self.type = event.type
        self.schema_version = event.schema_version
        self.stream = event.stream
        self.data = event.data
        self.recorded_at = recorded_at


class _EveryStream:
    def __contains__(self, _stream: object) -> bool:
        return True


EVERY_STREAM = _EveryStream()


class _Working:
    """The streams of one decision: an aggregate, None (no such stream), or the first
    event of a stream this batch started (its aggregate built on first use)."""

    def __init__(self) -> None:
        self.states: dict[str, HamkariAggregate | NewEvent | None] = {}
        # each stream's version as the decision stands (0: no such stream)
        self.versions: dict[str, int] = {}
        # the aggregates this decision may change: its own copies
        self.private: set[str] = set()

    def __contains__(self, stream: str) -> bool:
        return stream in self.states

    def set(self, stream: str, state: HamkariAggregate | NewEvent | None) -> None:
        self.states[stream] = state
        if state is None:
            self.versions[stream] = 0
        else:
            self.versions[stream] = 1 if isinstance(state, NewEvent) else state.version

    def aggregate(self, stream: str) -> HamkariAggregate | None:
        state = self.states[stream]
        if isinstance(state, NewEvent):
            built = replay([_Started(state, datetime.datetime.now(datetime.UTC))])
            self.states[stream] = built
            self.private.add(stream)
            return built
        return state

    def own(self, stream: str) -> HamkariAggregate | None:
        """The aggregate of the stream an event writes, as a private copy."""
        current = self.aggregate(stream)
        if current is not None and stream not in self.private:
            # loaded aggregates are the repository's shared ones: decide on a copy
            current = self.states[stream] = copy.deepcopy(current)
            self.private.add(stream)
        return current


async def decide_batch(
    repository: AggregateRepository,
    store: EventStore,
    principal: Principal,
    batch: Batch,
    todo: list[int],
    today: datetime.date,
    presumed_new: set[str],
    *,
    from_store: bool = False,
    refused: dict[int, RuleBroken] | None = None,
) -> Decision:
    """Decide the events of `batch` at `todo`, in order: `presumed_new` streams are taken
    not to exist without loading them; `from_store` bypasses the cache. With `refused`,
    an event that breaks a rule is put there and skipped instead of failing the batch
    (a dry run wants every broken rule, not the first)."""
    decision = Decision()
    working = _Working()
    for stream in presumed_new:
        working.set(stream, None)
    decision.versions_before.update(dict.fromkeys(presumed_new, 0))

    envelopes, types, streams = batch.envelopes, batch.types, batch.streams
    asserted = {streams[i] for i in todo if envelopes[i].expected_version is not None}

    async def prefetch(wanted_streams: Iterable[str]) -> None:
        wanted = [stream for stream in wanted_streams if stream not in working]
        if wanted:
            loaded = await repository.load_many(
                wanted, fresh=EVERY_STREAM if from_store else asserted
            )
            for stream, aggregate in loaded.items():
                working.set(stream, aggregate)
                decision.versions_before[stream] = aggregate.version if aggregate else 0

    # every stream the batch writes (and the posting partner's), then every stream
    # those read, in two round trips (the loop below still loads what an earlier event
    # of the batch made relevant)
    own = f"partner-{principal.partner_id}" if principal.role is Role.PARTNER else None
    await prefetch([own, *[streams[i] for i in todo]] if own else [streams[i] for i in todo])
    if own is not None:
        check_partner_may_post(working.aggregate(own))  # type: ignore[arg-type]
    # the streams each event's rules read, as its stream stands before the batch; for a
    # first event, what its rules read of its data as well (equal for equal data)
    reads: dict[int, list[str]] = {}
    first_inputs: dict[int, tuple[object, ...]] = {}
    reads_of_inputs: dict[tuple[object, ...], list[str]] = {}
    for i in todo:
        type_name, data = types[i], envelopes[i].data
        if type_name in CREATIONS:
            inputs = first_inputs[i] = (type_name, *rule_inputs(type_name, data))
            if inputs not in reads_of_inputs:
                reads_of_inputs[inputs] = related_streams(type_name, data, None)
            reads[i] = reads_of_inputs[inputs]
        else:
            reads[i] = related_streams(type_name, data, working.aggregate(streams[i]))
    await prefetch(
        [related for names in reads_of_inputs.values() for related in names]
        + [related for i in todo if i not in first_inputs for related in reads[i]]
    )
    evidence = {i: ids for i in todo if (ids := evidence_ids(types[i], envelopes[i].data))}
    wanted = {e for ids in evidence.values() for e in ids} - {batch.ids[i] for i in todo}
    known = {e.id for e in await store.get(list(wanted))} if wanted else set()
    # each distinct first-event decision once: (type, what its rules read, the versions
    # of the streams they read) -> the rule it broke, or None
    first_decisions: dict[tuple[object, ...], RuleBroken | None] = {}
    # the streams an earlier event of the batch wrote
    moved: set[str] = set()
    versions = working.versions

    def context(index: int) -> Context:
        return Context(
            today=today,
            related={name: working.aggregate(name) for name in reads[index]},
            # only evidence is looked up there: no copy for the events without
            known_event_ids=frozenset(known) if index in evidence else frozenset(),
        )

    for step, index in enumerate(todo, start=1):
        if step % YIELD_EVERY == 0:
            # a batch is milliseconds of CPU: let the appender's replies through
            await asyncio.sleep(0)
        envelope = envelopes[index]
        type_name = types[index]
        stream = streams[index]
        if stream not in working:
            await prefetch([stream])
        version = versions[stream]
        if envelope.expected_version is not None and envelope.expected_version != version:
            raise VersionConflict(stream, envelope.expected_version, version)
        creation = CREATIONS.get(type_name)
        try:
            if creation is not None:
                if version:  # as on the aggregate path: whose stream, then that it exists
                    check_owns(principal, type_name, working.aggregate(stream))
                    raise already_exists(type_name, envelope.data)
                key = (first_inputs[index], *[versions[name] for name in reads[index]])
                if key not in first_decisions:
                    try:
                        check_first(type_name, envelope.data, context(index))
                    except RuleBroken as broken:
                        first_decisions[key] = broken
                        raise
                    first_decisions[key] = None
                elif (earlier := first_decisions[key]) is not None:
                    raise type(earlier)(earlier.message)
            else:
                current = working.own(stream)
                check_owns(principal, type_name, current)
                if stream in moved:  # an earlier event of the batch moved it
                    reads[index] = related_streams(type_name, envelope.data, current)
                    await prefetch(reads[index])
                aggregate = decide(type_name, current, envelope.data, context(index))
        except RuleBroken as broken:
            if refused is None:
                raise
            refused[index] = broken
            continue
        if creation is not None:
            # the bytes stored, hashed and answered: encoded once, from the decoded Struct
            encoded = canonical_json(envelope.data)
            schema_version = creation.schema_version
        else:
            [event] = aggregate.collect_events()
            contract_type, schema_version, encoded = to_contract(event)
            assert contract_type == type_name
        new_event = NewEvent(
            id=batch.ids[index],
            type=type_name,
            stream=stream,
            data=encoded,
            schema_version=schema_version,
            expected_version=version,
            metadata=batch.metadata,
        )
        decision.events.append(new_event)
        if creation is not None:
            working.set(stream, new_event)
            decision.started.append(stream)
        else:
            working.set(stream, aggregate)
            working.private.add(stream)
            decision.aggregates[stream] = aggregate
        moved.add(stream)
        if evidence:
            known.add(batch.ids[index])
    written = {event.stream for event in decision.events}
    before = decision.versions_before
    decision.unchanged = {s: before[s] for s in working.states if s not in written}
    return decision
