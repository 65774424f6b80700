"""What crosses the wire around an event's data: the request to append one, the receipt
for it, and the stored event as the log gives it back to readers."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, TypeAlias

import msgspec
from msgspec import Meta, Struct

from schemas import events
from schemas.common import MAX_SAFE_INT, Count, Slug

Position = Annotated[
    int, Meta(ge=1, le=MAX_SAFE_INT, description="Place in the global log, from 1, gap-free.")
]
Version = Annotated[
    int, Meta(ge=1, le=MAX_SAFE_INT, description="Place in the event's stream, from 1.")
]
LeafHash = Annotated[
    str,
    Meta(
        pattern=r"^[0-9a-f]{64}$",
        description=(
            "RFC 9162 leaf hash of the stored event, SHA-256(0x00 || stored canonical "
            "bytes), as 64 lowercase hexadecimal digits."
        ),
    ),
]
"""The event's leaf hash in the audit log's Merkle tree, lowercase hex (`bytes.hex()`)."""


# --- writing: POST /v1/events ---------------------------------------------------------


class EventInBase(Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="type"):
    """One event to append: `type` picks the Struct of `data`.

    `id`, when given, makes the post idempotent: re-posting the same id returns the
    original receipt. `expected_version` is the version the event's stream must be at
    before this event (0: the stream must not exist yet)."""

    id: uuid.UUID | None = None
    expected_version: Count | None = None


class PartnerRegisteredIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="PartnerRegistered"
):
    """Append a PartnerRegistered event."""

    data: events.PartnerRegistered


class PartnerSuspendedIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="PartnerSuspended"
):
    """Append a PartnerSuspended event."""

    data: events.PartnerSuspended


class PartnerReinstatedIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="PartnerReinstated"
):
    """Append a PartnerReinstated event."""

    data: events.PartnerReinstated


class SiteRegisteredIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="SiteRegistered"
):
    """Append a SiteRegistered event."""

    data: events.SiteRegistered


class SiteClosedIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="SiteClosed"
):
    """Append a SiteClosed event."""

    data: events.SiteClosed


class PledgeMadeIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="PledgeMade"
):
    """Append a PledgeMade event."""

    data: events.PledgeMade


class PledgeCommittedIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="PledgeCommitted"
):
    """Append a PledgeCommitted event."""

    data: events.PledgeCommitted


class PledgeAmendedIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="PledgeAmended"
):
    """Append a PledgeAmended event."""

    data: events.PledgeAmended


class DisbursementRecordedIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="DisbursementRecorded"
):
    """Append a DisbursementRecorded event."""

    data: events.DisbursementRecorded


class PledgeCancelledIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="PledgeCancelled"
):
    """Append a PledgeCancelled event."""

    data: events.PledgeCancelled


class ServiceDeliveredIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="ServiceDelivered"
):
    """Append a ServiceDelivered event."""

    data: events.ServiceDelivered


class DeliveryCorrectedIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="DeliveryCorrected"
):
    """Append a DeliveryCorrected event."""

    data: events.DeliveryCorrected


class DeliveryRetractedIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="DeliveryRetracted"
):
    """Append a DeliveryRetracted event."""

    data: events.DeliveryRetracted


class MeetingHeldIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="MeetingHeld"
):
    """Append a MeetingHeld event."""

    data: events.MeetingHeld


class ReportPresentedIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="ReportPresented"
):
    """Append a ReportPresented event."""

    data: events.ReportPresented


class CommitmentMadeIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="CommitmentMade"
):
    """Append a CommitmentMade event."""

    data: events.CommitmentMade


class CommitmentProgressReportedIn(
    EventInBase,
    frozen=True,
    forbid_unknown_fields=True,
    kw_only=True,
    tag="CommitmentProgressReported",
):
    """Append a CommitmentProgressReported event."""

    data: events.CommitmentProgressReported


class CommitmentFulfilledIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="CommitmentFulfilled"
):
    """Append a CommitmentFulfilled event."""

    data: events.CommitmentFulfilled


class CommitmentWithdrawnIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="CommitmentWithdrawn"
):
    """Append a CommitmentWithdrawn event."""

    data: events.CommitmentWithdrawn


class ChallengeReportedIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="ChallengeReported"
):
    """Append a ChallengeReported event."""

    data: events.ChallengeReported


class PeriodLockedIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="PeriodLocked"
):
    """Append a PeriodLocked event."""

    data: events.PeriodLocked


class PeriodUnlockedIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="PeriodUnlocked"
):
    """Append a PeriodUnlocked event."""

    data: events.PeriodUnlocked


class WitnessRegisteredIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="WitnessRegistered"
):
    """Append a WitnessRegistered event."""

    data: events.WitnessRegistered


class WitnessRetiredIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="WitnessRetired"
):
    """Append a WitnessRetired event."""

    data: events.WitnessRetired


class TargetSetIn(
    EventInBase, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="TargetSet"
):
    """Append a TargetSet event."""

    data: events.TargetSet


#: Any one event to append; decode a body with `EVENT_BODY` to accept one or an array.
EventIn: TypeAlias = (
    PartnerRegisteredIn
    | PartnerSuspendedIn
    | PartnerReinstatedIn
    | SiteRegisteredIn
    | SiteClosedIn
    | PledgeMadeIn
    | PledgeCommittedIn
    | PledgeAmendedIn
    | DisbursementRecordedIn
    | PledgeCancelledIn
    | ServiceDeliveredIn
    | DeliveryCorrectedIn
    | DeliveryRetractedIn
    | MeetingHeldIn
    | ReportPresentedIn
    | CommitmentMadeIn
    | CommitmentProgressReportedIn
    | CommitmentFulfilledIn
    | CommitmentWithdrawnIn
    | ChallengeReportedIn
    | PeriodLockedIn
    | PeriodUnlockedIn
    | WitnessRegisteredIn
    | WitnessRetiredIn
    | TargetSetIn
)

#: The body of POST /v1/events: one event, or an array of 1 to 1,000 of them (the API
#: may be configured with a lower limit, HAMKARI_MAX_BATCH_EVENTS).
EventBody: TypeAlias = EventIn | Annotated[list[EventIn], Meta(min_length=1, max_length=1000)]

#: Event type name -> its request envelope Struct.
EVENT_IN_TYPES: dict[str, type[EventInBase]] = {
    str(cls.__struct_config__.tag): cls for cls in EventInBase.__subclasses__()
}


def type_of(event: EventInBase) -> str:
    """The `type` tag of a decoded request envelope."""
    return str(event.__struct_config__.tag)


class Receipt(Struct, frozen=True, kw_only=True):
    """What the server answers for each appended event."""

    id: uuid.UUID
    type: str
    stream: str
    version: Version
    position: Position
    recorded_at: datetime.datetime
    hash: LeafHash


# --- reading: streams, the log, exports -----------------------------------------------


class RecordedBy(Struct, frozen=True, kw_only=True):
    """Who appended an event: the token's principal, its role, its partner (if any)."""

    principal: str
    role: str
    partner_id: Slug | None = None


class LoggedEvent(Struct, frozen=True, kw_only=True):
    """An event as stored in the log.

    `data` is the event's data exactly as stored (canonical JSON, kept raw); decode it
    with the Struct for `type` at `schema_version`. `recorded_at` is the server's UTC
    clock; `hash` is the event's leaf hash in the audit log."""

    id: uuid.UUID
    type: str
    schema_version: Annotated[int, Meta(ge=1)] = 1
    stream: str
    version: Version
    position: Position
    recorded_at: datetime.datetime
    recorded_by: RecordedBy
    request_id: str | None = None
    data: msgspec.Raw
    hash: LeafHash


class EventPage(Struct, frozen=True, kw_only=True):
    """A page of the global log: `GET /v1/events?after=P&limit=N`.

    `next_after` is the position to ask for next (the last one in `events`, or `after`
    itself when the page is empty)."""

    events: list[LoggedEvent]
    next_after: Annotated[int, Meta(ge=0, le=MAX_SAFE_INT)]
