"""Posting events: check who may post, decide with the aggregates, append atomically.

A batch is decided in order against a working set, so a later event sees the effect
of an earlier one; the store appends all or none. Retries with known ids return the
original receipts whatever the rules say now: the first try presumes every event new,
and anything it cannot append goes down a careful path that looks for retries first.
A retry is answered only to the party (role and partner) that posted the original."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from schemas.envelope import EventIn, type_of
from schemas.events import SCHEMA_VERSIONS, stream_of
from server.aggregates.base import HamkariAggregate, RuleBroken
from server.aggregates.context import Context
from server.aggregates.mapping import to_contract
from server.aggregates.partner import check_partner_may_post
from server.aggregates.registry import creates_stream, decide, evidence_ids, related_streams
from server.auth.permissions import Forbidden, check_may_post, check_owns
from server.auth.tokens import Principal, Role
from server.eventstore import (
    AlreadyStored,
    EventIdReused,
    EventStore,
    Metadata,
    NewEvent,
    Recorded,
    StoredEvent,
    VersionConflict,
    canonical_json,
)
from server.services.repository import AggregateRepository

TEHRAN = ZoneInfo("Asia/Tehran")
# how often a batch is decided again when another writer moved one of its streams
MAX_DECISIONS = 5
# a long batch's decision lets the event loop run other work every so many events
YIELD_EVERY = 10


def today_in_tehran(now: datetime | None = None) -> date:
    return (now or datetime.now(TEHRAN)).astimezone(TEHRAN).date()


@dataclass
class Posted:
    receipts: list[Recorded]

    @property
    def appended_any(self) -> bool:
        return any(not r.replayed for r in self.receipts)


@dataclass(frozen=True)
class _Batch:
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
    def of(cls, envelopes: Sequence[EventIn], metadata: Metadata, token: bytes | None) -> _Batch:
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
class _Decision:
    events: list[NewEvent] = field(default_factory=list)
    unchanged: dict[str, int] = field(default_factory=dict)
    aggregates: dict[str, HamkariAggregate] = field(default_factory=dict)
    versions_before: dict[str, int] = field(default_factory=dict)


class PostingService:
    def __init__(self, store: EventStore, repository: AggregateRepository) -> None:
        self.store = store
        self.repository = repository

    async def post(
        self,
        principal: Principal,
        envelopes: Sequence[EventIn],
        request_id: str,
        token: bytes | None = None,
    ) -> Posted:
        """Decide and append; `token`, the hash of the poster's token, is checked to be
        active in the transaction that commits the events (TokenRevoked if not)."""
        metadata = Metadata(
            principal=principal.name,
            role=principal.role.value,
            partner_id=principal.partner_id,
            request_id=request_id,
        )
        batch = _Batch.of(envelopes, metadata, token)
        everything = list(range(len(envelopes)))
        try:
            appended = await self._post_presumed_new(principal, batch)
        except (AlreadyStored, RuleBroken, Forbidden, VersionConflict) as refused:
            if isinstance(refused, VersionConflict):
                self.repository.forget([refused.stream])
        else:
            return Posted(appended)
        # the careful path: retries answered first, then decisions until one holds
        replays = await self._replayed(batch)
        todo = [i for i in everything if i not in replays]
        receipts: dict[int, Recorded] = dict(replays)
        for index in todo:
            check_may_post(principal, batch.types[index], envelopes[index].data)
        if todo:
            for attempt in range(1, MAX_DECISIONS + 1):
                decision = await self._decide_checked(principal, batch, todo)
                try:
                    appended = await self.store.append(
                        decision.events, unchanged=decision.unchanged, token=batch.token
                    )
                except VersionConflict as conflict:
                    self.repository.forget([conflict.stream])
                    if _client_expected(batch, todo, conflict) or attempt == MAX_DECISIONS:
                        raise
                    continue
                await self.repository.committed(
                    list(decision.aggregates.values()), decision.versions_before
                )
                receipts.update(zip(todo, appended, strict=True))
                break
        return Posted([receipts[i] for i in everything])

    async def check(
        self, principal: Principal, envelopes: Sequence[EventIn]
    ) -> dict[int, RuleBroken]:
        """Decide without appending, for a dry run (a spreadsheet import's preview):
        every event is decided in order from the stored streams, as `post` would, and
        each one that breaks a rule is left out and answered by its index. Forbidden
        and the poster's own standing (a suspended partner) still refuse the whole."""
        metadata = Metadata(
            principal=principal.name, role=principal.role.value, partner_id=principal.partner_id
        )
        batch = _Batch.of(envelopes, metadata, None)
        todo = list(range(len(envelopes)))
        for index in todo:
            check_may_post(principal, batch.types[index], envelopes[index].data)
        refused: dict[int, RuleBroken] = {}
        await self._decide(principal, batch, todo, set(), from_store=True, refused=refused)
        return refused

    async def _post_presumed_new(self, principal: Principal, batch: _Batch) -> list[Recorded]:
        """The first try, for the usual post: every event new, every rule kept, the
        cache current. It skips the look-up of retried ids and decides on the cache
        alone; the append refuses ids already stored (AlreadyStored). Any refusal sends
        the post down the careful path, which answers retries first and refuses only on
        what the log says (docs/write-path.md)."""
        todo = list(range(len(batch.envelopes)))
        for index in todo:
            check_may_post(principal, batch.types[index], batch.envelopes[index].data)
        presumed = self._presumable(batch, todo)
        decision = await self._decide(principal, batch, todo, presumed)
        appended = await self.store.append(
            decision.events, unchanged=decision.unchanged, replays=False, token=batch.token
        )
        await self.repository.committed(
            list(decision.aggregates.values()), decision.versions_before
        )
        return appended

    async def _replayed(self, batch: _Batch) -> dict[int, Recorded]:
        chosen = {envelope.id for envelope in batch.envelopes if envelope.id is not None}
        if not chosen:
            return {}
        stored: dict[uuid.UUID, StoredEvent] = {e.id: e for e in await self.store.get(list(chosen))}
        out: dict[int, Recorded] = {}
        for index, envelope in enumerate(batch.envelopes):
            original = stored.get(batch.ids[index])
            if original is None:
                continue
            # whose retry it is, before anything else: another party's id is a conflict
            # that names neither the position nor the receipt (API.md "Users and roles")
            if not original.decode().metadata.same_party(batch.metadata):
                raise EventIdReused(batch.ids[index])
            same = (
                original.type == batch.types[index]
                and original.stream == batch.streams[index]
                and original.data == canonical_json(envelope.data)
            )
            if not same:
                raise EventIdReused(batch.ids[index], original.position)
            out[index] = original.receipt(replayed=True)
        return out

    async def _decide_checked(
        self, principal: Principal, batch: _Batch, todo: list[int]
    ) -> _Decision:
        """Decide from what this worker knows; refuse only on what the log says.

        The decision takes the cached aggregates as they are (streams known not to
        exist included). A decision that passes is checked by the append, which
        expects every stream read or written to be at the version decided on: a stale
        cache costs a version conflict and another decision. A decision that breaks a rule is made
        again from the stored streams before the client is refused, so that another
        worker's recent events count (docs/write-path.md)."""
        try:
            return await self._decide(principal, batch, todo, set())
        except (RuleBroken, Forbidden):
            pass
        return await self._decide(principal, batch, todo, set(), from_store=True)

    def _presumable(self, batch: _Batch, todo: list[int]) -> set[str]:
        """The streams the batch starts that this worker does not know of: presumed new
        (not those with an expected version: the client asked for that check)."""
        return {
            batch.streams[i]
            for i in todo
            if creates_stream(batch.types[i])
            and batch.envelopes[i].expected_version is None
            and not self.repository.cached(batch.streams[i])
        }

    async def _decide(
        self,
        principal: Principal,
        batch: _Batch,
        todo: list[int],
        presumed_new: set[str],
        *,
        from_store: bool = False,
        refused: dict[int, RuleBroken] | None = None,
    ) -> _Decision:
        """Decide the batch against the aggregates it touches: `presumed_new` streams
        are taken not to exist without loading them; `from_store` bypasses the cache.
        With `refused`, an event that breaks a rule is put there and skipped instead of
        failing the batch (a dry run wants every broken rule, not the first)."""
        decision = _Decision()
        working: dict[str, HamkariAggregate | None] = dict.fromkeys(presumed_new)
        decision.versions_before.update(dict.fromkeys(presumed_new, 0))

        envelopes, types, streams = batch.envelopes, batch.types, batch.streams
        asserted = {streams[i] for i in todo if envelopes[i].expected_version is not None}

        async def prefetch(streams: Iterable[str]) -> None:
            wanted = [stream for stream in streams if stream not in working]
            if wanted:
                loaded = await self.repository.load_many(
                    wanted, fresh=EVERY_STREAM if from_store else asserted
                )
                for stream, aggregate in loaded.items():
                    working[stream] = aggregate
                    decision.versions_before[stream] = aggregate.version if aggregate else 0

        async def load(stream: str) -> HamkariAggregate | None:
            await prefetch([stream])
            return working[stream]

        if principal.role is Role.PARTNER:
            own = f"partner-{principal.partner_id}"
            check_partner_may_post(await load(own))  # type: ignore[arg-type]
        # every stream the batch writes, then every stream those read, in two round trips
        # (the loop below still loads what an earlier event of the batch made relevant)
        await prefetch(streams[i] for i in todo)
        # the streams each event's rules read, as its stream stands before the batch
        reads = {i: related_streams(types[i], envelopes[i].data, working[streams[i]]) for i in todo}
        await prefetch(related for names in reads.values() for related in names)
        evidence = {i: evidence_ids(types[i], envelopes[i].data) for i in todo}
        wanted = {e for ids in evidence.values() for e in ids} - {batch.ids[i] for i in todo}
        known = {e.id for e in await self.store.get(list(wanted))} if wanted else set()
        today = today_in_tehran()
        private: set[str] = set()

        for step, index in enumerate(todo, start=1):
            if step % YIELD_EVERY == 0:
                # a batch is milliseconds of CPU: let the appender's replies through
                await asyncio.sleep(0)
            envelope = envelopes[index]
            type_name = types[index]
            stream = streams[index]
            # prefetched above: no coroutine for a dictionary look-up, twice an event
            current = working[stream] if stream in working else await load(stream)
            if current is not None and stream not in private:
                # loaded aggregates are the repository's shared ones: decide on a copy
                current = working[stream] = copy.deepcopy(current)
                private.add(stream)
            version = current.version if current else 0
            if envelope.expected_version is not None and envelope.expected_version != version:
                raise VersionConflict(stream, envelope.expected_version, version)
            check_owns(principal, type_name, current)
            if stream in decision.aggregates:  # an earlier event of the batch moved it
                reads[index] = related_streams(type_name, envelope.data, current)
            related = {}
            for name in reads[index]:
                related[name] = working[name] if name in working else await load(name)
            context = Context(
                today=today,
                related=related,
                # only evidence is looked up there: no copy for the events without
                known_event_ids=frozenset(known) if evidence[index] else frozenset(),
            )
            try:
                aggregate = decide(type_name, current, envelope.data, context)
            except RuleBroken as broken:
                if refused is None:
                    raise
                refused[index] = broken
                continue
            [event] = aggregate.collect_events()
            contract_type, schema_version, data = to_contract(event)
            assert contract_type == type_name
            decision.events.append(
                NewEvent(
                    id=batch.ids[index],
                    type=type_name,
                    stream=stream,
                    data=data,
                    schema_version=schema_version or SCHEMA_VERSIONS[type_name],
                    expected_version=version,
                    metadata=batch.metadata,
                )
            )
            working[stream] = aggregate
            private.add(stream)
            decision.aggregates[stream] = aggregate
            known.add(batch.ids[index])
        written = {event.stream for event in decision.events}
        decision.unchanged = {
            stream: decision.versions_before[stream] for stream in working if stream not in written
        }
        return decision


class _EveryStream:
    def __contains__(self, _stream: object) -> bool:
        return True


EVERY_STREAM = _EveryStream()


def _client_expected(batch: _Batch, todo: list[int], conflict: VersionConflict) -> bool:
    """Whether the conflict is on a stream whose version the client itself asserted."""
    return any(
        batch.envelopes[i].expected_version is not None and batch.streams[i] == conflict.stream
        for i in todo
    )
