"""The Delivery aggregate: a free service a partner delivered at a site over a period,
its corrections (the original stays in the log) and its retraction."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from eventsourcing.domain import event

from schemas import events
from schemas.common import id_text
from schemas.events import CORRECTABLE_FIELDS, PERIODS_STREAM
from server.aggregates.base import (
    AlreadyExists,
    HamkariAggregate,
    NotFound,
    RuleBroken,
    check_period_order,
    plain,
)
from server.aggregates.context import Context
from server.aggregates.partner import active_partner, partner_stream
from server.aggregates.periods import Periods
from server.aggregates.pledge import Pledge, UnknownPledge, pledge_stream
from server.aggregates.site import registered_site, site_stream


class UnknownDelivery(NotFound):
    rule = "unknown-delivery"


class DeliveryAlreadyRecorded(AlreadyExists):
    rule = "delivery-already-recorded"


class DeliveryAfterSiteClosure(RuleBroken):
    """No deliveries dated after the site closed."""

    rule = "delivery-after-site-closure"


class DeliveryInFuture(RuleBroken):
    """The period ends after today (in Tehran)."""

    rule = "delivery-in-future"


class DeliveryInLockedPeriod(RuleBroken):
    """A locked month accepts no new, corrected or retracted deliveries."""

    rule = "period-locked"


class PledgeNotForPartner(RuleBroken):
    """The named pledge is neither the partner's own nor one that paid the partner."""

    rule = "pledge-not-for-partner"


class PledgeDoesNotCoverSector(RuleBroken):
    rule = "pledge-does-not-cover-sector"


class CorrectionChangesNothing(RuleBroken):
    rule = "correction-changes-nothing"


class DeliveryIsRetracted(RuleBroken):
    """A retracted delivery cannot be corrected."""

    rule = "delivery-retracted"


class DeliveryAlreadyRetracted(RuleBroken):
    rule = "delivery-already-retracted"


def delivery_stream(delivery_id: object) -> str:
    return f"delivery-{id_text(delivery_id)}"


# --- the rules a delivery and a correction share -----------------------------------


def check_site_open(ctx: Context, site_id: str, end: datetime.date) -> None:
    closed = registered_site(ctx, site_id).closed_before(end)
    if closed is not None:
        raise DeliveryAfterSiteClosure(f"site {site_id} closed on {closed}, before {end}")


def check_period(ctx: Context, start: datetime.date, end: datetime.date) -> None:
    check_period_order(start, end)
    if end > ctx.today:
        raise DeliveryInFuture(f"the period ends {end}, after today ({ctx.today})")


def check_unlocked(ctx: Context, start: datetime.date, end: datetime.date) -> None:
    periods = ctx.aggregate(PERIODS_STREAM, Periods)
    month = None if periods is None else periods.locked_month_over(start, end)
    if month is not None:
        raise DeliveryInLockedPeriod(f"{start}..{end} falls in locked month {month}")


def check_pledge(ctx: Context, pledge_id: str, partner_id: str, sector: str) -> None:
    pledge = ctx.aggregate(pledge_stream(pledge_id), Pledge)
    if pledge is None:
        raise UnknownPledge(f"pledge {pledge_id} was never made")
    pledge.check_not_cancelled()
    if not pledge.funds(partner_id):
        raise PledgeNotForPartner(f"pledge {pledge_id} neither is nor funds {partner_id}'s")
    if sector not in pledge.sectors:
        raise PledgeDoesNotCoverSector(f"pledge {pledge_id} does not cover {sector}")


#: The fields of a new delivery that its rules read (server/aggregates/lean.py).
RECORD_READS = ("partner_id", "site_id", "sector", "period_start", "period_end", "pledge_id")


def check_record(data: events.ServiceDelivered, ctx: Context) -> None:
    """The rules of a new delivery: an active partner, a past period at a site open
    then, no locked month, and a pledge (if named) that funds it."""
    active_partner(ctx, data.partner_id)
    check_period(ctx, data.period_start, data.period_end)
    check_site_open(ctx, data.site_id, data.period_end)
    check_unlocked(ctx, data.period_start, data.period_end)
    if data.pledge_id is not None:
        check_pledge(ctx, id_text(data.pledge_id), data.partner_id, data.sector)


class Delivery(HamkariAggregate):
    """The current values of a delivery (corrections applied) and whether it stands.

    Attribute names are the contract's field names, so a correction sets them by name."""

    @event("ServiceDelivered")
    def __init__(self, id: str, data: events.ServiceDelivered) -> None:
        self.delivery_id: str = id_text(data.delivery_id)
        self.partner_id: str = data.partner_id
        self.site_id: str = data.site_id
        self.sector: str = data.sector
        self.activity: str = data.activity
        self.period_start: str = data.period_start.isoformat()
        self.period_end: str = data.period_end.isoformat()
        self.beneficiaries: dict[str, Any] = plain(data.beneficiaries)
        self.population_group: str = data.population_group
        self.nationality: str = data.nationality
        self.pledge_id: str | None = None if data.pledge_id is None else id_text(data.pledge_id)
        self.free_of_charge: bool = data.free_of_charge
        self.notes: str | None = data.notes
        self.corrections: int = 0
        self.retracted: bool = False

    @classmethod
    def record(cls, data: events.ServiceDelivered, ctx: Context) -> Delivery:
        check_record(data, ctx)
        return cls(id=delivery_stream(data.delivery_id), data=data)

    @staticmethod
    def streams_to_record(data: events.ServiceDelivered) -> list[str]:
        streams = [partner_stream(data.partner_id), site_stream(data.site_id), PERIODS_STREAM]
        if data.pledge_id is not None:
            streams.append(pledge_stream(data.pledge_id))
        return streams

    # --- corrections ------------------------------------------------------------

    def changes(self, data: events.DeliveryCorrected) -> dict[str, Any]:
        """The corrected fields whose values differ from the current ones, as JSON."""
        changed = {}
        for name in CORRECTABLE_FIELDS:
            value = getattr(data, name)
            if value is not msgspec.UNSET and plain(value) != getattr(self, name):
                changed[name] = plain(value)
        return changed

    def streams_to_correct(self, data: events.DeliveryCorrected) -> list[str]:
        """The streams `correct` reads: the same rules as a delivery, for what changes."""
        changed = self.changes(data)
        after = {**vars(self), **changed}
        streams = [PERIODS_STREAM]
        if changed.keys() & {"site_id", "period_start", "period_end"}:
            streams.append(site_stream(after["site_id"]))
        if changed.keys() & {"pledge_id", "sector"} and after["pledge_id"] is not None:
            streams.append(pledge_stream(after["pledge_id"]))
        return streams

    def correct(self, data: events.DeliveryCorrected, ctx: Context) -> None:
        if self.retracted:
            raise DeliveryIsRetracted(f"delivery {self.delivery_id} was retracted")
        changed = self.changes(data)
        if not changed:
            raise CorrectionChangesNothing("a correction must change at least one field")
        after = {**vars(self), **changed}
        start = datetime.date.fromisoformat(after["period_start"])
        end = datetime.date.fromisoformat(after["period_end"])
        check_unlocked(ctx, self.start, self.end)
        if changed.keys() & {"period_start", "period_end"}:
            check_period(ctx, start, end)
            check_unlocked(ctx, start, end)
        if changed.keys() & {"site_id", "period_start", "period_end"}:
            check_site_open(ctx, after["site_id"], end)
        if changed.keys() & {"pledge_id", "sector"} and after["pledge_id"] is not None:
            check_pledge(ctx, after["pledge_id"], self.partner_id, after["sector"])
        self._correct(data)

    @event("DeliveryCorrected")
    def _correct(self, data: events.DeliveryCorrected) -> None:
        for name in CORRECTABLE_FIELDS:
            value = getattr(data, name)
            if value is not msgspec.UNSET:
                setattr(self, name, plain(value))
        self.corrections += 1

    # --- retraction -------------------------------------------------------------

    def retract(self, data: events.DeliveryRetracted, ctx: Context) -> None:
        if self.retracted:
            raise DeliveryAlreadyRetracted(f"delivery {self.delivery_id} is already retracted")
        check_unlocked(ctx, self.start, self.end)
        self._retract(data)

    @event("DeliveryRetracted")
    def _retract(self, data: events.DeliveryRetracted) -> None:
        self.retracted = True

    # --- views ------------------------------------------------------------------

    @property
    def start(self) -> datetime.date:
        return datetime.date.fromisoformat(self.period_start)

    @property
    def end(self) -> datetime.date:
        return datetime.date.fromisoformat(self.period_end)
