"""The `data` of every v1 event type, one frozen Struct each, and the stream each belongs to.

Shape only: the rules each docstring names are checked by the aggregates, not here."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, ClassVar, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from schemas.common import (
    Beneficiaries,
    Calendar,
    CountryCode,
    Currency,
    Money,
    Month,
    Name,
    PartnerKind,
    Percent,
    PopulationGroup,
    Sector,
    SiteKind,
    Slug,
    Text,
    VerifierKey,
    WitnessName,
    id_text,
)

#: The one stream of PeriodLocked and PeriodUnlocked: locks of every month, in both
#: calendars, in a single order, so "is this month locked?" is one stream's state.
PERIODS_STREAM = "periods"


class EventData(Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every event's data; each subclass restates the Struct options.

    `stream_field` names the field whose value identifies the event's stream: the
    stream is `{prefix}-{value}`, prefix being the field name without `_id`
    (`pledge_id` -> `pledge-<uuid>`); `None` means the `periods` stream. Optional
    fields not sent are stored as `null`, so a stored event shows every field."""

    stream_field: ClassVar[str | None]
    # the stream's prefix when it is not the field name without `_id`
    stream_prefix: ClassVar[str | None] = None


# --- partners ---------------------------------------------------------------------


class PartnerRegistered(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An organisation joins Hamkari. Posted by an admin. Rule: `partner_id` is unique."""

    stream_field: ClassVar[str | None] = "partner_id"

    partner_id: Slug
    name_fa: Name
    name_en: Name
    kind: PartnerKind
    country: CountryCode | None = None


class PartnerSuspended(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A partner may no longer post. Posted by an admin."""

    stream_field: ClassVar[str | None] = "partner_id"

    partner_id: Slug
    reason: Text


class PartnerReinstated(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A suspended partner may post again. Posted by an admin."""

    stream_field: ClassVar[str | None] = "partner_id"

    partner_id: Slug
    reason: Text


# --- sites ------------------------------------------------------------------------


class SiteRegistered(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A place where services are delivered. Posted by an admin. Rule: `site_id` is unique."""

    stream_field: ClassVar[str | None] = "site_id"

    site_id: Slug
    name_fa: Name
    name_en: Name
    kind: SiteKind
    province: Name
    county: Name | None = None


class SiteClosed(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A site closes. Rule: no deliveries dated after `closed_on`."""

    stream_field: ClassVar[str | None] = "site_id"

    site_id: Slug
    closed_on: datetime.date
    reason: Text


# --- pledges ----------------------------------------------------------------------


class PledgeMade(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A partner promises funding. Rules: amount > 0; period_end >= period_start."""

    stream_field: ClassVar[str | None] = "pledge_id"

    pledge_id: uuid.UUID
    partner_id: Slug
    amount: Money
    currency: Currency
    sectors: Annotated[tuple[Sector, ...], Meta(min_length=1, max_length=64)]
    site_id: Slug | None = None
    period_start: datetime.date
    period_end: datetime.date
    meeting_id: uuid.UUID | None = None
    description: Text | None = None


class PledgeCommitted(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A pledge is signed. Only commitments and payments count in funding totals (FTS)."""

    stream_field: ClassVar[str | None] = "pledge_id"

    pledge_id: uuid.UUID
    committed_on: datetime.date
    agreement_ref: Name | None = None


class PledgeAmended(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A pledge's amount or end changes. Rule: amount never below what was disbursed.

    A field left `null` is not amended; an amendment amending neither is a rule
    violation, not a shape error."""

    stream_field: ClassVar[str | None] = "pledge_id"

    pledge_id: uuid.UUID
    amount: Money | None = None
    period_end: datetime.date | None = None
    reason: Text


class DisbursementRecorded(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Money paid against a pledge; in the pledge's stream.

    Rules: same currency as the pledge; running total <= pledged; pledge not cancelled."""

    stream_field: ClassVar[str | None] = "pledge_id"

    pledge_id: uuid.UUID
    disbursement_id: uuid.UUID
    amount: Money
    currency: Currency
    disbursed_on: datetime.date
    recipient_partner_id: Slug | None = None


class PledgeCancelled(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A pledge is withdrawn. Rule: not after full disbursement."""

    stream_field: ClassVar[str | None] = "pledge_id"

    pledge_id: uuid.UUID
    reason: Text


# --- deliveries -------------------------------------------------------------------


class ServiceDelivered(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A partner delivered a free service at a site over a period.

    Rules: partner active; site open over the period; period not in the future, not
    in a locked month, period_end >= period_start; a named pledge is this partner's
    or funds it, and covers the sector."""

    stream_field: ClassVar[str | None] = "delivery_id"

    delivery_id: uuid.UUID
    partner_id: Slug
    site_id: Slug
    sector: Sector
    activity: Name
    period_start: datetime.date
    period_end: datetime.date
    beneficiaries: Beneficiaries
    population_group: PopulationGroup = "REF"
    nationality: CountryCode = "AF"
    pledge_id: uuid.UUID | None = None
    free_of_charge: Literal[True]
    notes: Text | None = None


class DeliveryCorrected(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """New values for some fields of a delivery; the original stays in the log.

    Only the fields sent are corrected (absent means unchanged, and absent fields are
    not stored); `pledge_id` and `notes` may be corrected to `null` to clear them.
    `delivery_id`, `partner_id` and `free_of_charge` cannot be corrected. A correction
    that sends no corrected field breaks a rule; it is not a shape error."""

    stream_field: ClassVar[str | None] = "delivery_id"

    delivery_id: uuid.UUID
    site_id: Slug | UnsetType = UNSET
    sector: Sector | UnsetType = UNSET
    activity: Name | UnsetType = UNSET
    period_start: datetime.date | UnsetType = UNSET
    period_end: datetime.date | UnsetType = UNSET
    beneficiaries: Beneficiaries | UnsetType = UNSET
    population_group: PopulationGroup | UnsetType = UNSET
    nationality: CountryCode | UnsetType = UNSET
    pledge_id: uuid.UUID | UnsetType | None = UNSET
    notes: Text | UnsetType | None = UNSET
    reason: Text


#: The fields of ServiceDelivered a DeliveryCorrected may carry.
CORRECTABLE_FIELDS: tuple[str, ...] = tuple(
    f for f in DeliveryCorrected.__struct_fields__ if f not in ("delivery_id", "reason")
)


class DeliveryRetracted(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A delivery should not have been recorded: reports drop it, the log keeps it."""

    stream_field: ClassVar[str | None] = "delivery_id"

    delivery_id: uuid.UUID
    reason: Text


# --- meetings ---------------------------------------------------------------------


class Participant(Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A partner at a meeting, optionally with the person who came and their role."""

    partner_id: Slug
    person: Name | None = None
    role: Name | None = None


class MeetingHeld(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A coordination meeting took place. Rule: participants are registered partners."""

    stream_field: ClassVar[str | None] = "meeting_id"

    meeting_id: uuid.UUID
    held_on: datetime.date
    title_fa: Name
    title_en: Name
    site_id: Slug | None = None
    chair_partner_id: Slug
    participants: Annotated[tuple[Participant, ...], Meta(min_length=1, max_length=1000)]
    summary: Text | None = None


class ReportPresented(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A partner presented its work at a meeting; in the meeting's stream.

    Rules: the meeting exists; the partner attended."""

    stream_field: ClassVar[str | None] = "meeting_id"

    meeting_id: uuid.UUID
    partner_id: Slug
    summary: Text
    challenges: Annotated[tuple[Text, ...], Meta(max_length=100)]


# --- commitments ------------------------------------------------------------------


class CommitmentMade(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Someone takes on a task, usually at a meeting.

    Rules: the owner is registered; at least one of the two descriptions is given."""

    stream_field: ClassVar[str | None] = "commitment_id"

    commitment_id: uuid.UUID
    meeting_id: uuid.UUID | None = None
    owner_partner_id: Slug
    description_fa: Text | None = None
    description_en: Text | None = None
    sector: Sector | None = None
    site_id: Slug | None = None
    due_on: datetime.date


class CommitmentProgressReported(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Progress on an open commitment, optionally as a whole percent."""

    stream_field: ClassVar[str | None] = "commitment_id"

    commitment_id: uuid.UUID
    note: Text
    percent: Percent | None = None


class CommitmentFulfilled(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A commitment is done; `evidence` lists ids of events that show it.

    Rules: the commitment is open; every evidence id is in the log."""

    stream_field: ClassVar[str | None] = "commitment_id"

    commitment_id: uuid.UUID
    note: Text
    evidence: Annotated[tuple[uuid.UUID, ...], Meta(max_length=1000)]


class CommitmentWithdrawn(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An open commitment is dropped."""

    stream_field: ClassVar[str | None] = "commitment_id"

    commitment_id: uuid.UUID
    reason: Text


# --- challenges -------------------------------------------------------------------


class ChallengeReported(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A partner reports an obstacle to its work."""

    stream_field: ClassVar[str | None] = "challenge_id"

    challenge_id: uuid.UUID
    partner_id: Slug
    site_id: Slug | None = None
    sector: Sector | None = None
    description: Text


# --- targets ----------------------------------------------------------------------


class TargetSet(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """How many a partner plans to reach in a sector (at a site, by an activity) over a
    period: reports set it against the beneficiaries delivered (planned vs reached).

    A later TargetSet with the same `target_id` replaces the target as a whole.
    Rules: the partner is registered and stays the target's partner; the site, if
    any, is registered; period_end >= period_start."""

    stream_field: ClassVar[str | None] = "target_id"

    target_id: uuid.UUID
    partner_id: Slug
    sector: Sector
    site_id: Slug | None = None
    activity: Name | None = None
    period_start: datetime.date
    period_end: datetime.date
    beneficiaries: Beneficiaries
    reason: Text | None = None


# --- periods ----------------------------------------------------------------------


class PeriodLocked(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A month accepts no new, corrected or retracted deliveries until unlocked.

    In the single `periods` stream. `month` is read in `calendar`."""

    stream_field: ClassVar[str | None] = None

    month: Month
    calendar: Calendar = "gregorian"
    reason: Text


class PeriodUnlocked(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A locked month accepts deliveries again; the reason is required.

    In the single `periods` stream. `month` is read in `calendar`."""

    stream_field: ClassVar[str | None] = None

    month: Month
    calendar: Calendar = "gregorian"
    reason: Text


# --- witnesses --------------------------------------------------------------------


class WitnessRegistered(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A party's witness may cosign the log's checkpoints. Posted by an admin.

    Rules: `witness_name` is unique; `verifier_key` is an Ed25519 cosignature/v1 key
    (C2SP type 0x04) named `witness_name`. `partner_id`, when given, is the registered
    partner that runs it."""

    stream_field: ClassVar[str | None] = "witness_name"
    stream_prefix: ClassVar[str | None] = "witness"

    witness_name: WitnessName
    verifier_key: VerifierKey
    partner_id: Slug | None = None
    reason: Text | None = None


class WitnessRetired(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A witness's later cosignatures are refused (its key was lost, or the party
    left). Posted by an admin; final: a new key is registered under a new name."""

    stream_field: ClassVar[str | None] = "witness_name"
    stream_prefix: ClassVar[str | None] = "witness"

    witness_name: WitnessName
    reason: Text


# --- registry ---------------------------------------------------------------------

_ALL: tuple[type[EventData], ...] = (
    PartnerRegistered,
    PartnerSuspended,
    PartnerReinstated,
    SiteRegistered,
    SiteClosed,
    PledgeMade,
    PledgeCommitted,
    PledgeAmended,
    DisbursementRecorded,
    PledgeCancelled,
    ServiceDelivered,
    DeliveryCorrected,
    DeliveryRetracted,
    MeetingHeld,
    ReportPresented,
    CommitmentMade,
    CommitmentProgressReported,
    CommitmentFulfilled,
    CommitmentWithdrawn,
    ChallengeReported,
    PeriodLocked,
    PeriodUnlocked,
    WitnessRegistered,
    WitnessRetired,
    TargetSet,
)

#: Event type name -> the Struct of its `data`, current version.
EVENT_TYPES: dict[str, type[EventData]] = {cls.__name__: cls for cls in _ALL}

#: Event type name -> current schema version of its `data`.
SCHEMA_VERSIONS: dict[str, int] = {name: 1 for name in EVENT_TYPES}


def stream_of(type_name: str, data: EventData) -> str:
    """The stream an event is appended to, from its type and data.

    `partner-{partner_id}`, `site-{site_id}`, `pledge-{pledge_id}` (DisbursementRecorded
    included), `delivery-{delivery_id}`, `meeting-{meeting_id}` (ReportPresented
    included), `commitment-{commitment_id}`, `challenge-{challenge_id}`,
    `target-{target_id}`, and `periods` for PeriodLocked and PeriodUnlocked,
    `witness-{witness_name}` for the witness events. UUIDs appear in lowercase
    hyphenated form.
    Raises KeyError for an unknown type and TypeError when `data` is not its Struct."""
    cls = EVENT_TYPES[type_name]
    if not isinstance(data, cls):
        raise TypeError(f"{type_name} data must be {cls.__name__}, not {type(data).__name__}")
    field = cls.stream_field
    if field is None:
        return PERIODS_STREAM
    prefix = cls.stream_prefix or field.removesuffix("_id")
    return f"{prefix}-{id_text(getattr(data, field))}"
