"""The Commitment aggregate: a task someone took on (usually at a meeting), its
progress, and how it ended: fulfilled with evidence, or withdrawn."""

from __future__ import annotations

from eventsourcing.domain import event

from schemas import events
from schemas.common import id_text
from server.aggregates.base import AlreadyExists, HamkariAggregate, NotFound, RuleBroken
from server.aggregates.context import Context
from server.aggregates.meeting import Meeting, UnknownMeeting, meeting_stream
from server.aggregates.partner import partner_stream, registered_partner
from server.aggregates.site import registered_site, site_stream

OPEN = "open"
FULFILLED = "fulfilled"
WITHDRAWN = "withdrawn"


class UnknownCommitment(NotFound):
    rule = "unknown-commitment"


class CommitmentAlreadyMade(AlreadyExists):
    rule = "commitment-already-made"


class CommitmentDescriptionMissing(RuleBroken):
    """A commitment needs a description in Persian, English, or both."""

    rule = "commitment-description-missing"


class CommitmentNotOpen(RuleBroken):
    """Progress, fulfilment and withdrawal are for open commitments only."""

    rule = "commitment-not-open"


class UnknownEvidence(RuleBroken):
    """Evidence must name events that are in the log (or earlier in the same batch)."""

    rule = "unknown-evidence"


def commitment_stream(commitment_id: object) -> str:
    return f"commitment-{id_text(commitment_id)}"


#: The fields of a new commitment that its rules read (server/aggregates/lean.py).
MAKE_READS = ("description_fa", "description_en", "owner_partner_id", "meeting_id", "site_id")


def check_make(data: events.CommitmentMade, ctx: Context) -> None:
    """The rules of a new commitment: a description, a registered owner, a meeting that
    was held and a registered site, for those it names."""
    if data.description_fa is None and data.description_en is None:
        raise CommitmentDescriptionMissing("give description_fa, description_en, or both")
    registered_partner(ctx, data.owner_partner_id)
    meeting_id = data.meeting_id
    if meeting_id is not None and ctx.aggregate(meeting_stream(meeting_id), Meeting) is None:
        raise UnknownMeeting(f"meeting {data.meeting_id} was never held")
    if data.site_id is not None:
        registered_site(ctx, data.site_id)


class Commitment(HamkariAggregate):
    """A commitment owned by `owner_partner_id`; `status` is open, fulfilled or withdrawn."""

    @event("CommitmentMade")
    def __init__(self, id: str, data: events.CommitmentMade) -> None:
        self.commitment_id: str = id_text(data.commitment_id)
        self.meeting_id: str | None = None if data.meeting_id is None else id_text(data.meeting_id)
        self.owner_partner_id: str = data.owner_partner_id
        self.description_fa: str | None = data.description_fa
        self.description_en: str | None = data.description_en
        self.sector: str | None = data.sector
        self.site_id: str | None = data.site_id
        self.due_on: str = data.due_on.isoformat()
        self.status: str = OPEN
        self.percent: int | None = None
        self.evidence: list[str] = []

    @classmethod
    def make(cls, data: events.CommitmentMade, ctx: Context) -> Commitment:
        check_make(data, ctx)
        return cls(id=commitment_stream(data.commitment_id), data=data)

    @staticmethod
    def streams_to_make(data: events.CommitmentMade) -> list[str]:
        streams = [partner_stream(data.owner_partner_id)]
        if data.meeting_id is not None:
            streams.append(meeting_stream(data.meeting_id))
        if data.site_id is not None:
            streams.append(site_stream(data.site_id))
        return streams

    def check_open(self) -> None:
        if self.status != OPEN:
            raise CommitmentNotOpen(f"commitment {self.commitment_id} is {self.status}")

    def report_progress(self, data: events.CommitmentProgressReported) -> None:
        self.check_open()
        self._report_progress(data)

    @event("CommitmentProgressReported")
    def _report_progress(self, data: events.CommitmentProgressReported) -> None:
        if data.percent is not None:
            self.percent = data.percent

    def fulfil(self, data: events.CommitmentFulfilled, ctx: Context) -> None:
        self.check_open()
        unknown = [str(e) for e in data.evidence if e not in ctx.known_event_ids]
        if unknown:
            raise UnknownEvidence(f"no such events in the log: {', '.join(unknown)}")
        self._fulfil(data)

    @event("CommitmentFulfilled")
    def _fulfil(self, data: events.CommitmentFulfilled) -> None:
        self.status = FULFILLED
        self.evidence = [str(e) for e in data.evidence]

    def withdraw(self, data: events.CommitmentWithdrawn) -> None:
        self.check_open()
        self._withdraw(data)

    @event("CommitmentWithdrawn")
    def _withdraw(self, data: events.CommitmentWithdrawn) -> None:
        self.status = WITHDRAWN
