"""Which aggregate each contract event type belongs to, which other streams its rules
read, and `decide`: one command on one aggregate, giving one pending event or a RuleBroken."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from schemas import events
from schemas.events import PERIODS_STREAM, EventData, stream_of
from server.aggregates.base import AlreadyExists, HamkariAggregate, RuleBroken
from server.aggregates.challenge import Challenge, ChallengeAlreadyReported
from server.aggregates.commitment import Commitment, CommitmentAlreadyMade, UnknownCommitment
from server.aggregates.context import Context
from server.aggregates.delivery import Delivery, DeliveryAlreadyRecorded, UnknownDelivery
from server.aggregates.meeting import Meeting, MeetingAlreadyHeld, UnknownMeeting
from server.aggregates.partner import Partner, PartnerAlreadyRegistered, UnknownPartner
from server.aggregates.periods import PeriodNotLocked, Periods
from server.aggregates.pledge import Pledge, PledgeAlreadyMade, UnknownPledge
from server.aggregates.site import Site, SiteAlreadyRegistered, UnknownSite
from server.aggregates.target import Target
from server.aggregates.witness import UnknownWitness, Witness, WitnessAlreadyRegistered

#: Event type -> the aggregate whose stream it is appended to (and which holds its class).
AGGREGATE_OF: dict[str, type[HamkariAggregate]] = {
    "PartnerRegistered": Partner,
    "PartnerSuspended": Partner,
    "PartnerReinstated": Partner,
    "SiteRegistered": Site,
    "SiteClosed": Site,
    "PledgeMade": Pledge,
    "PledgeCommitted": Pledge,
    "PledgeAmended": Pledge,
    "DisbursementRecorded": Pledge,
    "PledgeCancelled": Pledge,
    "ServiceDelivered": Delivery,
    "DeliveryCorrected": Delivery,
    "DeliveryRetracted": Delivery,
    "MeetingHeld": Meeting,
    "ReportPresented": Meeting,
    "CommitmentMade": Commitment,
    "CommitmentProgressReported": Commitment,
    "CommitmentFulfilled": Commitment,
    "CommitmentWithdrawn": Commitment,
    "ChallengeReported": Challenge,
    "PeriodLocked": Periods,
    "PeriodUnlocked": Periods,
    "WitnessRegistered": Witness,
    "WitnessRetired": Witness,
    "TargetSet": Target,
}

Create = Callable[[Any, Context], HamkariAggregate]
Command = Callable[[Any, Any, Context], None]

# Commands that start a stream, and the error when the stream already exists.
_CREATE: dict[str, tuple[Create, type[AlreadyExists]]] = {
    "PartnerRegistered": (lambda d, c: Partner.register(d), PartnerAlreadyRegistered),
    "SiteRegistered": (lambda d, c: Site.register(d), SiteAlreadyRegistered),
    "PledgeMade": (Pledge.make, PledgeAlreadyMade),
    "ServiceDelivered": (Delivery.record, DeliveryAlreadyRecorded),
    "MeetingHeld": (Meeting.hold, MeetingAlreadyHeld),
    "CommitmentMade": (Commitment.make, CommitmentAlreadyMade),
    "ChallengeReported": (Challenge.report, ChallengeAlreadyReported),
    "WitnessRegistered": (Witness.register, WitnessAlreadyRegistered),
}


def creates_stream(type_name: str) -> bool:
    """Whether the event type starts its stream (the stream must not exist yet)."""
    return type_name in _CREATE


# Commands on an existing stream, and the error when it does not exist (a NotFound,
# but for unlocking: the periods stream is missing when nothing was ever locked).
_COMMAND: dict[str, tuple[Command, type[RuleBroken]]] = {
    "PartnerSuspended": (lambda a, d, c: a.suspend(d), UnknownPartner),
    "PartnerReinstated": (lambda a, d, c: a.reinstate(d), UnknownPartner),
    "SiteClosed": (lambda a, d, c: a.close(d), UnknownSite),
    "PledgeCommitted": (lambda a, d, c: a.commit(d), UnknownPledge),
    "PledgeAmended": (lambda a, d, c: a.amend(d), UnknownPledge),
    "DisbursementRecorded": (lambda a, d, c: a.record_disbursement(d, c), UnknownPledge),
    "PledgeCancelled": (lambda a, d, c: a.cancel(d), UnknownPledge),
    "DeliveryCorrected": (lambda a, d, c: a.correct(d, c), UnknownDelivery),
    "DeliveryRetracted": (lambda a, d, c: a.retract(d, c), UnknownDelivery),
    "ReportPresented": (lambda a, d, c: a.present_report(d), UnknownMeeting),
    "CommitmentProgressReported": (lambda a, d, c: a.report_progress(d), UnknownCommitment),
    "CommitmentFulfilled": (lambda a, d, c: a.fulfil(d, c), UnknownCommitment),
    "CommitmentWithdrawn": (lambda a, d, c: a.withdraw(d), UnknownCommitment),
    "PeriodUnlocked": (lambda a, d, c: a.unlock(d), PeriodNotLocked),
    "WitnessRetired": (lambda a, d, c: a.retire(d), UnknownWitness),
}


def decide(
    type_name: str, current: HamkariAggregate | None, data: EventData, ctx: Context
) -> HamkariAggregate:
    """Run the command of `type_name` on `current` (None: the stream does not exist).

    Returns the aggregate (`current` itself, changed in place, or a new one) with one
    more pending event; raises a RuleBroken subclass, leaving `current` unchanged.
    `ctx.related` must hold the streams `related_streams` names."""
    stream = stream_of(type_name, data)
    if current is not None:
        cls = AGGREGATE_OF[type_name]
        if not isinstance(current, cls) or current.id != stream:
            raise TypeError(f"{type_name} needs the {cls.__name__} of {stream}, not {current!r}")
    if type_name == "PeriodLocked":
        assert isinstance(data, events.PeriodLocked)
        if current is None:
            return Periods.first_lock(data)
        assert isinstance(current, Periods)
        current.lock(data)
        return current
    if type_name == "TargetSet":
        # the first sets the target, later ones (same target_id) replace it
        assert isinstance(data, events.TargetSet)
        if current is None:
            return Target.set(data, ctx)
        assert isinstance(current, Target)
        current.replace(data, ctx)
        return current
    if type_name in _CREATE:
        create, exists = _CREATE[type_name]
        if current is not None:
            raise exists(f"{stream} already exists")
        return create(data, ctx)
    command, missing = _COMMAND[type_name]
    if current is None:
        raise missing(f"{stream} does not exist")
    command(current, data, ctx)
    return current


def related_streams(type_name: str, data: EventData, current: HamkariAggregate | None) -> list[str]:
    """The other streams `decide` reads for this event, each once.

    The service loads them into `Context.related` and fails the append if any of them
    moved meanwhile. `current` is the event's own aggregate (None: not yet)."""
    streams: list[str] = []
    if isinstance(data, events.PledgeMade):
        streams = Pledge.streams_to_make(data)
    elif isinstance(data, events.DisbursementRecorded):
        streams = Pledge.streams_to_disburse(data)
    elif isinstance(data, events.ServiceDelivered):
        streams = Delivery.streams_to_record(data)
    elif isinstance(data, events.DeliveryCorrected):
        if isinstance(current, Delivery):
            streams = current.streams_to_correct(data)
    elif isinstance(data, events.DeliveryRetracted):
        streams = [PERIODS_STREAM]
    elif isinstance(data, events.MeetingHeld):
        streams = Meeting.streams_to_hold(data)
    elif isinstance(data, events.CommitmentMade):
        streams = Commitment.streams_to_make(data)
    elif isinstance(data, events.ChallengeReported):
        streams = Challenge.streams_to_report(data)
    elif isinstance(data, events.WitnessRegistered):
        streams = Witness.streams_to_register(data)
    elif isinstance(data, events.TargetSet):
        streams = Target.streams_to_set(data)
    own = stream_of(type_name, data)
    return [s for s in dict.fromkeys(streams) if s != own]


def evidence_ids(type_name: str, data: EventData) -> list[uuid.UUID]:
    """Event ids whose existence the service must establish (into known_event_ids)."""
    if type_name == "CommitmentFulfilled" and isinstance(data, events.CommitmentFulfilled):
        return list(data.evidence)
    return []
