"""The Target aggregate: how many a partner plans to reach in a sector, at a site or by
an activity, over a period. Set once, then replaced whole by later TargetSet events with
the same target_id; the partner it is for never changes."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import CanMutateAggregate, TAggregate
from eventsourcing.utils import get_topic

from schemas import events
from schemas.common import beneficiary_totals, id_text
from server.aggregates.base import HamkariAggregate, RuleBroken, check_period_order
from server.aggregates.context import Context
from server.aggregates.partner import partner_stream, registered_partner
from server.aggregates.site import registered_site, site_stream


class TargetPartnerChanged(RuleBroken):
    """A target is one partner's plan: another partner's is another target."""

    rule = "target-partner-changed"


def target_stream(target_id: object) -> str:
    return f"target-{id_text(target_id)}"


def _check(data: events.TargetSet, ctx: Context) -> None:
    check_period_order(data.period_start, data.period_end)
    registered_partner(ctx, data.partner_id)
    if data.site_id is not None:
        registered_site(ctx, data.site_id)


class Target(HamkariAggregate):
    """A partner's plan for a sector; `planned` is its total beneficiary contacts.

    The stream begins with its first TargetSet, and later ones replace it: like the
    periods' PeriodLocked, one event class both creates the aggregate and changes it."""

    def __init__(self) -> None:
        self.target_id: str = ""
        self.partner_id: str = ""
        self.sector: str = ""
        self.site_id: str | None = None
        self.activity: str | None = None
        self.period_start: str = ""
        self.period_end: str = ""
        self.planned: int = 0
        self.replacements: int = -1

    class TargetSet(HamkariAggregate.Created):
        """Declared by hand, not by @event: the library's "created" events only create,
        and this one also replaces an existing target."""

        data: events.TargetSet

        def mutate(self, aggregate: TAggregate | None) -> TAggregate | None:
            if aggregate is None:
                return super().mutate(None)
            return CanMutateAggregate.mutate(self, aggregate)

        def apply(self, aggregate: Any) -> None:
            assert isinstance(aggregate, Target)
            aggregate._take(self.data)

    def _take(self, data: events.TargetSet) -> None:
        self.target_id = id_text(data.target_id)
        self.partner_id = data.partner_id
        self.sector = data.sector
        self.site_id = data.site_id
        self.activity = data.activity
        self.period_start = data.period_start.isoformat()
        self.period_end = data.period_end.isoformat()
        self.planned = _planned(data)
        self.replacements += 1

    @classmethod
    def set(cls, data: events.TargetSet, ctx: Context) -> Target:
        _check(data, ctx)
        return cls._create(cls.TargetSet, id=target_stream(data.target_id), data=data)

    def replace(self, data: events.TargetSet, ctx: Context) -> None:
        if data.partner_id != self.partner_id:
            raise TargetPartnerChanged(
                f"target {self.target_id} is {self.partner_id!r}'s, not {data.partner_id!r}'s"
            )
        _check(data, ctx)
        self.trigger_event(self.TargetSet, data=data, originator_topic=get_topic(type(self)))

    @staticmethod
    def streams_to_set(data: events.TargetSet) -> list[str]:
        streams = [partner_stream(data.partner_id)]
        if data.site_id is not None:
            streams.append(site_stream(data.site_id))
        return streams


def _planned(data: events.TargetSet) -> int:
    """The target's beneficiary contacts in all, from either form."""
    return beneficiary_totals(data.beneficiaries).total
