"""Posting events: check who may post, decide with the aggregates, append atomically.

A batch is decided in order against a working set, so a later event sees the effect
of an earlier one; the store appends all or none. Retries with known ids return the
original receipts whatever the rules say now: the first try presumes every event new,
and anything it cannot append goes down a careful path that looks for retries first.
A retry is answered only to the party (role and partner) that posted the original."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from schemas.envelope import EventIn
from server.aggregates.base import RuleBroken
from server.aggregates.registry import creates_stream
from server.auth.permissions import Forbidden, check_may_post
from server.auth.tokens import Principal
from server.eventstore import (
    AlreadyStored,
    EventIdReused,
    EventStore,
    Metadata,
    Recorded,
    StoredEvent,
    VersionConflict,
    canonical_json,
)
from server.services.deciding import Batch, Decision, decide_batch
from server.services.repository import AggregateRepository

TEHRAN = ZoneInfo("Asia/Tehran")
# how often a batch is decided again when another writer moved one of its streams
MAX_DECISIONS = 5


def today_in_tehran(now: datetime | None = None) -> date:
    return (now or datetime.now(TEHRAN)).astimezone(TEHRAN).date()


@dataclass
class Posted:
    receipts: list[Recorded]

    @property
    def appended_any(self) -> bool:
        return any(not r.replayed for r in self.receipts)


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
        batch = Batch.of(envelopes, metadata, token)
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
                await self._committed(decision)
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
        batch = Batch.of(envelopes, metadata, None)
        todo = list(range(len(envelopes)))
        for index in todo:
            check_may_post(principal, batch.types[index], envelopes[index].data)
        refused: dict[int, RuleBroken] = {}
        await self._decide(principal, batch, todo, set(), from_store=True, refused=refused)
        return refused

    async def _post_presumed_new(self, principal: Principal, batch: Batch) -> list[Recorded]:
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
        await self._committed(decision)
        return appended

    async def _replayed(self, batch: Batch) -> dict[int, Recorded]:
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
        self, principal: Principal, batch: Batch, todo: list[int]
    ) -> Decision:
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

    def _presumable(self, batch: Batch, todo: list[int]) -> set[str]:
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
        batch: Batch,
        todo: list[int],
        presumed_new: set[str],
        *,
        from_store: bool = False,
        refused: dict[int, RuleBroken] | None = None,
    ) -> Decision:
        return await decide_batch(
            self.repository,
            self.store,
            principal,
            batch,
            todo,
            today_in_tehran(),
            presumed_new,
            from_store=from_store,
            refused=refused,
        )

    async def _committed(self, decision: Decision) -> None:
        """After an append: the repository caches the aggregates the decision changed
        and forgets the streams it started (their aggregates are built when needed)."""
        self.repository.forget(decision.started)
        await self.repository.committed(
            list(decision.aggregates.values()), decision.versions_before
        )


def _client_expected(batch: Batch, todo: list[int], conflict: VersionConflict) -> bool:
    """Whether the conflict is on a stream whose version the client itself asserted."""
    return any(
        batch.envelopes[i].expected_version is not None and batch.streams[i] == conflict.stream
        for i in todo
    )
