"""The Partner aggregate: an organisation registered in Hamkari, and whether it may
post (suspended partners may not). Also the partner checks other aggregates make."""

from __future__ import annotations

from eventsourcing.domain import event

from schemas import events
from server.aggregates.base import AlreadyExists, HamkariAggregate, NotFound, RuleBroken
from server.aggregates.context import Context


class UnknownPartner(NotFound):
    rule = "unknown-partner"


class PartnerAlreadyRegistered(AlreadyExists):
    rule = "partner-already-registered"


class PartnerSuspended(RuleBroken):
    """A suspended partner tries to post, or is named where an active one is needed."""

    rule = "partner-suspended"


class PartnerAlreadySuspended(RuleBroken):
    rule = "partner-already-suspended"


class PartnerNotSuspended(RuleBroken):
    """Only a suspended partner can be reinstated."""

    rule = "partner-not-suspended"


def partner_stream(partner_id: str) -> str:
    return f"partner-{partner_id}"


class Partner(HamkariAggregate):
    """An organisation working with the directorate; `active` unless suspended."""

    @event("PartnerRegistered")
    def __init__(self, id: str, data: events.PartnerRegistered) -> None:
        self.partner_id: str = data.partner_id
        self.name_fa: str = data.name_fa
        self.name_en: str = data.name_en
        self.kind: str = data.kind
        self.country: str | None = data.country
        self.active: bool = True

    @classmethod
    def register(cls, data: events.PartnerRegistered) -> Partner:
        return cls(id=partner_stream(data.partner_id), data=data)

    def suspend(self, data: events.PartnerSuspended) -> None:
        if not self.active:
            raise PartnerAlreadySuspended(f"partner {self.partner_id} is already suspended")
        self._suspend(data)

    @event("PartnerSuspended")
    def _suspend(self, data: events.PartnerSuspended) -> None:
        self.active = False

    def reinstate(self, data: events.PartnerReinstated) -> None:
        if self.active:
            raise PartnerNotSuspended(f"partner {self.partner_id} is not suspended")
        self._reinstate(data)

    @event("PartnerReinstated")
    def _reinstate(self, data: events.PartnerReinstated) -> None:
        self.active = True


def check_partner_may_post(partner: Partner | None) -> None:
    """Raise unless the partner is registered and not suspended.

    For the service (a partner principal posting anything) and for the rules that
    need an active partner (a delivery)."""
    if partner is None:
        raise UnknownPartner("the partner is not registered")
    if not partner.active:
        raise PartnerSuspended(f"partner {partner.partner_id} is suspended and may not post")


def registered_partner(ctx: Context, partner_id: str) -> Partner:
    """The related partner, which must be registered (suspended or not)."""
    partner = ctx.aggregate(partner_stream(partner_id), Partner)
    if partner is None:
        raise UnknownPartner(f"partner {partner_id} is not registered")
    return partner


def active_partner(ctx: Context, partner_id: str) -> Partner:
    """The related partner, which must be registered and not suspended."""
    partner = registered_partner(ctx, partner_id)
    check_partner_may_post(partner)
    return partner
