"""The Pledge aggregate: a partner's promise of funding, its signature, amendments,
the disbursements paid against it, and its cancellation. Money is Decimal, never float."""

from __future__ import annotations

import datetime
from decimal import Decimal

from eventsourcing.domain import event

from schemas import events
from schemas.common import id_text, money_value
from server.aggregates.base import (
    AlreadyExists,
    HamkariAggregate,
    NotFound,
    RuleBroken,
    check_period_order,
)
from server.aggregates.context import Context
from server.aggregates.partner import partner_stream, registered_partner
from server.aggregates.site import registered_site, site_stream


class UnknownPledge(NotFound):
    rule = "unknown-pledge"


class PledgeAlreadyMade(AlreadyExists):
    rule = "pledge-already-made"


class PledgeAmountNotPositive(RuleBroken):
    rule = "pledge-amount-not-positive"


class PledgeAlreadyCommitted(RuleBroken):
    rule = "pledge-already-committed"


class PledgeIsCancelled(RuleBroken):
    """The pledge was cancelled: nothing more is committed, amended, paid or funded."""

    rule = "pledge-cancelled"


class PledgeAlreadyCancelled(RuleBroken):
    rule = "pledge-already-cancelled"


class PledgeFullyDisbursed(RuleBroken):
    """A pledge paid in full cannot be cancelled."""

    rule = "pledge-fully-disbursed"


class AmendmentChangesNothing(RuleBroken):
    rule = "amendment-changes-nothing"


class AmountBelowDisbursed(RuleBroken):
    """An amendment would make the pledge smaller than what was already paid."""

    rule = "amount-below-disbursed"


class DisbursementAmountNotPositive(RuleBroken):
    rule = "disbursement-amount-not-positive"


class DisbursementCurrencyMismatch(RuleBroken):
    rule = "disbursement-currency-mismatch"


class DisbursementExceedsPledge(RuleBroken):
    rule = "disbursement-exceeds-pledge"


class DisbursementAlreadyRecorded(RuleBroken):
    rule = "disbursement-already-recorded"


def pledge_stream(pledge_id: object) -> str:
    return f"pledge-{id_text(pledge_id)}"


#: The fields of a new pledge that its rules read (server/aggregates/lean.py).
MAKE_READS = ("amount", "period_start", "period_end", "partner_id", "site_id")


def check_make(data: events.PledgeMade, ctx: Context) -> None:
    """The rules of a new pledge: a positive amount over an ordered period, by a
    registered partner, at a registered site if it names one."""
    if money_value(data.amount) <= 0:
        raise PledgeAmountNotPositive(f"a pledge must be above zero, not {data.amount}")
    check_period_order(data.period_start, data.period_end)
    registered_partner(ctx, data.partner_id)
    if data.site_id is not None:
        registered_site(ctx, data.site_id)


class Pledge(HamkariAggregate):
    """Funding promised by `partner_id` (the pledger), in one currency.

    `disbursed` is the running total paid, as a decimal string; `recipients` the
    partners paid directly, whose deliveries the pledge therefore funds."""

    @event("PledgeMade")
    def __init__(self, id: str, data: events.PledgeMade) -> None:
        self.pledge_id: str = id_text(data.pledge_id)
        self.partner_id: str = data.partner_id
        self.amount: str = data.amount
        self.currency: str = data.currency
        self.sectors: list[str] = list(data.sectors)
        self.site_id: str | None = data.site_id
        self.period_start: str = data.period_start.isoformat()
        self.period_end: str = data.period_end.isoformat()
        self.meeting_id: str | None = None if data.meeting_id is None else id_text(data.meeting_id)
        self.committed_on: str | None = None
        self.disbursed: str = "0"
        self.disbursement_ids: list[str] = []
        self.recipients: list[str] = []
        self.cancelled: bool = False

    @classmethod
    def make(cls, data: events.PledgeMade, ctx: Context) -> Pledge:
        check_make(data, ctx)
        return cls(id=pledge_stream(data.pledge_id), data=data)

    @staticmethod
    def streams_to_make(data: events.PledgeMade) -> list[str]:
        streams = [partner_stream(data.partner_id)]
        if data.site_id is not None:
            streams.append(site_stream(data.site_id))
        return streams

    @staticmethod
    def streams_to_disburse(data: events.DisbursementRecorded) -> list[str]:
        recipient = data.recipient_partner_id
        return [] if recipient is None else [partner_stream(recipient)]

    # --- commands ---------------------------------------------------------------

    def commit(self, data: events.PledgeCommitted) -> None:
        self.check_not_cancelled()
        if self.committed_on is not None:
            raise PledgeAlreadyCommitted(f"pledge was committed on {self.committed_on}")
        self._commit(data)

    @event("PledgeCommitted")
    def _commit(self, data: events.PledgeCommitted) -> None:
        self.committed_on = data.committed_on.isoformat()

    def amend(self, data: events.PledgeAmended) -> None:
        self.check_not_cancelled()
        amount_changes = data.amount is not None and money_value(data.amount) != self.pledged
        end_changes = data.period_end is not None and data.period_end.isoformat() != self.period_end
        if not (amount_changes or end_changes):
            raise AmendmentChangesNothing("an amendment must change the amount or period_end")
        if data.amount is not None:
            new_amount = money_value(data.amount)
            if new_amount <= 0:
                raise PledgeAmountNotPositive(f"a pledge must be above zero, not {data.amount}")
            if new_amount < self.paid:
                raise AmountBelowDisbursed(
                    f"{data.amount} {self.currency} is below the {self.disbursed} already disbursed"
                )
        if data.period_end is not None:
            check_period_order(self.start, data.period_end)
        self._amend(data)

    @event("PledgeAmended")
    def _amend(self, data: events.PledgeAmended) -> None:
        if data.amount is not None:
            self.amount = data.amount
        if data.period_end is not None:
            self.period_end = data.period_end.isoformat()

    def record_disbursement(self, data: events.DisbursementRecorded, ctx: Context) -> None:
        self.check_not_cancelled()
        if data.currency != self.currency:
            raise DisbursementCurrencyMismatch(
                f"the pledge is in {self.currency}; the disbursement is in {data.currency}"
            )
        amount = money_value(data.amount)
        if amount <= 0:
            raise DisbursementAmountNotPositive(f"a disbursement must be above zero: {data.amount}")
        if id_text(data.disbursement_id) in self.disbursement_ids:
            raise DisbursementAlreadyRecorded(f"disbursement {data.disbursement_id} is recorded")
        if self.paid + amount > self.pledged:
            raise DisbursementExceedsPledge(
                f"{self.disbursed} + {data.amount} {self.currency} exceeds the "
                f"{self.amount} pledged"
            )
        if data.recipient_partner_id is not None:
            registered_partner(ctx, data.recipient_partner_id)
        self._record_disbursement(data)

    @event("DisbursementRecorded")
    def _record_disbursement(self, data: events.DisbursementRecorded) -> None:
        self.disbursed = str(self.paid + money_value(data.amount))
        self.disbursement_ids.append(id_text(data.disbursement_id))
        recipient = data.recipient_partner_id
        if recipient is not None and recipient not in self.recipients:
            self.recipients.append(recipient)

    def cancel(self, data: events.PledgeCancelled) -> None:
        if self.cancelled:
            raise PledgeAlreadyCancelled("the pledge is already cancelled")
        if self.paid >= self.pledged:
            raise PledgeFullyDisbursed("a pledge disbursed in full cannot be cancelled")
        self._cancel(data)

    @event("PledgeCancelled")
    def _cancel(self, data: events.PledgeCancelled) -> None:
        self.cancelled = True

    # --- rules and views --------------------------------------------------------

    def check_not_cancelled(self) -> None:
        if self.cancelled:
            raise PledgeIsCancelled(f"pledge {self.pledge_id} is cancelled")

    @property
    def pledged(self) -> Decimal:
        return money_value(self.amount)

    @property
    def paid(self) -> Decimal:
        return money_value(self.disbursed)

    @property
    def start(self) -> datetime.date:
        return datetime.date.fromisoformat(self.period_start)

    def funds(self, partner_id: str) -> bool:
        """Whether deliveries by this partner may name the pledge: the pledger's own,
        or a partner the pledge paid directly."""
        return partner_id == self.partner_id or partner_id in self.recipients
