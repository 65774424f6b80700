"""A spreadsheet import as a client of the posting service: rows already read into
envelopes are sorted into new, corrected and unchanged against the log, then either
checked (a dry run) or posted as one atomic batch through `PostingService.post`.

A delivery already recorded with other values becomes a DeliveryCorrected carrying
only the fields that differ; one recorded with the same values appends nothing. Any
other row whose derived event id is already in the log is unchanged."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from schemas import events
from schemas.envelope import DeliveryCorrectedIn, EventIn, type_of
from schemas.events import CORRECTABLE_FIELDS, stream_of
from server.aggregates.base import RuleBroken, plain
from server.aggregates.delivery import Delivery
from server.auth.permissions import check_may_post
from server.auth.tokens import Principal
from server.eventstore import Recorded
from server.imports.messages import RowError, row_error
from server.imports.rows import Row, derived_id
from server.services.posting import PostingService

CORRECTION_REASON = "Corrected by a spreadsheet import"


@dataclass(frozen=True)
class Change:
    """A delivery's field as recorded and as the file has it (a dry run shows these)."""

    row: int
    delivery_id: str
    field: str
    old: Any
    new: Any


@dataclass
class Outcome:
    new: int = 0
    corrected: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    receipts: list[Recorded] = field(default_factory=list)

    @property
    def appended_any(self) -> bool:
        return any(not r.replayed for r in self.receipts)


@dataclass
class _Plan:
    envelopes: list[EventIn] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # the row of each envelope
    outcome: Outcome = field(default_factory=Outcome)


async def run_import(
    posting: PostingService,
    principal: Principal,
    rows: Sequence[Row],
    *,
    dry_run: bool,
    request_id: str,
    token: bytes | None,
) -> Outcome:
    """Check or post the rows; an Outcome with errors has appended nothing. Forbidden
    (a row for another partner) is raised before anything is read from the log."""
    for row in rows:
        check_may_post(principal, type_of(row.envelope), row.envelope.data)
    plan = await _plan(posting, rows)
    outcome = plan.outcome
    if not plan.envelopes:
        return outcome
    if not dry_run:
        try:
            posted = await posting.post(principal, plan.envelopes, request_id, token)
        except RuleBroken:
            pass  # say which rows, below, from a dry run of the same batch
        else:
            outcome.receipts = posted.receipts
            return outcome
    refused = await posting.check(principal, plan.envelopes)
    for index, broken in sorted(refused.items()):
        outcome.errors.append(
            row_error(plan.rows[index], None, broken.rule, str(broken), broken=True)
        )
    if not dry_run and not refused:
        # the log moved between the post and the check: say so rather than guess a row
        outcome.errors.append(row_error(None, None, "retry", "the log changed; import again"))
    return outcome


async def _plan(posting: PostingService, rows: Sequence[Row]) -> _Plan:
    plan = _Plan()
    streams = [stream_of(type_of(r.envelope), r.envelope.data) for r in rows]
    ids = [r.envelope.id for r in rows if r.envelope.id is not None]
    logged = {e.id: e for e in await posting.store.get(ids)} if ids else {}
    deliveries = [
        s for r, s in zip(rows, streams, strict=True) if type_of(r.envelope) == "ServiceDelivered"
    ]
    versions = await posting.store.stream_versions(deliveries) if deliveries else {}
    # a delivery whose only event is this very row's (same derived id) is unchanged
    # without loading it; the others recorded already are compared field by field
    known = [
        s
        for r, s in zip(rows, streams, strict=True)
        if s in versions and not (r.envelope.id in logged and versions[s] == 1)
    ]
    current = await posting.repository.load_many(known, fresh=set(known)) if known else {}
    for row, stream in zip(rows, streams, strict=True):
        envelope = row.envelope
        recorded = current.get(stream)
        if isinstance(recorded, Delivery) and isinstance(envelope.data, events.ServiceDelivered):
            correction = _correction(row, recorded, envelope.data, plan.outcome)
            if correction is None:
                plan.outcome.unchanged += 1
                continue
            plan.outcome.corrected += 1
            envelope = correction
        elif envelope.id in logged:
            plan.outcome.unchanged += 1
            continue
        else:
            plan.outcome.new += 1
        plan.envelopes.append(envelope)
        plan.rows.append(row.number)
    return plan


def _correction(
    row: Row,
    recorded: Delivery,
    data: events.ServiceDelivered,
    outcome: Outcome,
) -> DeliveryCorrectedIn | None:
    """The correction that brings the recorded delivery to the row's values, or None."""
    changed: dict[str, Any] = {}
    for name in CORRECTABLE_FIELDS:
        value = getattr(data, name)
        old = getattr(recorded, name)
        if plain(value) != old:
            changed[name] = value
            outcome.changes.append(
                Change(row.number, recorded.delivery_id, name, copy.deepcopy(old), plain(value))
            )
    if not changed:
        return None
    correction = events.DeliveryCorrected(
        delivery_id=data.delivery_id, reason=CORRECTION_REASON, **changed
    )
    # the version it corrects is part of the id: undoing a correction and making it
    # again are two events, not a replay of the first
    content = msgspec.json.encode(correction, order="sorted").decode()
    event_id = derived_id(
        "event", recorded.partner_id, "DeliveryCorrected", str(recorded.version), content
    )
    return DeliveryCorrectedIn(id=uuid.UUID(event_id), data=correction)
