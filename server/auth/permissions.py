"""Who may post which event, exactly as API.md's table says.

Roles first (from the type alone), then ownership (from the data, or from the
aggregate the event acts on: the pledger, the delivering partner, the owner)."""

from __future__ import annotations

from typing import Any

from server.auth.tokens import Principal, Role

A, C, P = Role.ADMIN, Role.COORDINATOR, Role.PARTNER

# type -> roles that may post it at all
POSTERS: dict[str, frozenset[Role]] = {
    "PartnerRegistered": frozenset({A}),
    "PartnerSuspended": frozenset({A}),
    "PartnerReinstated": frozenset({A}),
    "SiteRegistered": frozenset({A}),
    "SiteClosed": frozenset({A}),
    "PledgeMade": frozenset({P, C}),
    "PledgeCommitted": frozenset({P, C}),
    "PledgeAmended": frozenset({P, C}),
    "DisbursementRecorded": frozenset({P}),
    "PledgeCancelled": frozenset({P, C}),
    "ServiceDelivered": frozenset({P}),
    "DeliveryCorrected": frozenset({P, C}),
    "DeliveryRetracted": frozenset({P, C}),
    "MeetingHeld": frozenset({C}),
    "ReportPresented": frozenset({C, P}),
    "CommitmentMade": frozenset({C}),
    "CommitmentProgressReported": frozenset({P, C}),
    "CommitmentFulfilled": frozenset({P, C}),
    "CommitmentWithdrawn": frozenset({C}),
    "ChallengeReported": frozenset({P, C}),
    "PeriodLocked": frozenset({C}),
    "PeriodUnlocked": frozenset({C}),
    "WitnessRegistered": frozenset({A}),
    "WitnessRetired": frozenset({A}),
    "TargetSet": frozenset({C, P}),
}

# For a partner: the data field naming the partner the event is for (it must be theirs)
OWN_DATA_FIELD: dict[str, str] = {
    "PledgeMade": "partner_id",
    "ServiceDelivered": "partner_id",
    "ReportPresented": "partner_id",
    "ChallengeReported": "partner_id",
    "TargetSet": "partner_id",
}

# For a partner: the aggregate attribute naming whose stream it is (pledger, deliverer, owner)
OWN_AGGREGATE_ATTRIBUTE: dict[str, str] = {
    "PledgeCommitted": "partner_id",
    "PledgeAmended": "partner_id",
    "DisbursementRecorded": "partner_id",
    "PledgeCancelled": "partner_id",
    "DeliveryCorrected": "partner_id",
    "DeliveryRetracted": "partner_id",
    "CommitmentProgressReported": "owner_partner_id",
    "CommitmentFulfilled": "owner_partner_id",
    "TargetSet": "partner_id",
}


class Forbidden(Exception):
    """The principal may not post this event (HTTP 403)."""


def may_read_record(principal: Principal, partner_id: str) -> bool:
    """Whether `principal` may read `partner_id`'s record (the partner report, the
    dashboard's partner page): a partner its own only, whether or not the other exists;
    every other role all of them."""
    return principal.role is not Role.PARTNER or principal.partner_id == partner_id


def check_may_post(principal: Principal, type_name: str, data: Any) -> None:
    """Raise Forbidden unless `principal`'s role may post `type_name` with this `data`.

    Decided from the request alone, before any aggregate is loaded, so that a caller
    learns nothing about streams it may not touch."""
    roles = POSTERS.get(type_name, frozenset())
    if principal.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles)) or "nobody"
        raise Forbidden(f"{principal.role.value} may not post {type_name} (allowed: {allowed})")
    field = OWN_DATA_FIELD.get(type_name)
    if (
        principal.role is Role.PARTNER
        and field is not None
        and getattr(data, field) != principal.partner_id
    ):
        raise Forbidden(
            f"a partner token for {principal.partner_id!r} may not post {type_name} "
            f"for {getattr(data, field)!r}"
        )


def check_owns(principal: Principal, type_name: str, current: Any) -> None:
    """Raise Forbidden when a partner acts on a stream that is another partner's."""
    attribute = OWN_AGGREGATE_ATTRIBUTE.get(type_name)
    if principal.role is not Role.PARTNER or attribute is None or current is None:
        return
    owner = getattr(current, attribute)
    if owner != principal.partner_id:
        raise Forbidden(
            f"{type_name} acts on a stream of {owner!r}; "
            f"a token for {principal.partner_id!r} may not post it"
        )
