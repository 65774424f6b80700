"""Pledges: made, committed, amended, paid against and cancelled, by the rules."""

from __future__ import annotations

from typing import Any

from server.aggregates.base import PeriodEndsBeforeStart
from server.aggregates.partner import UnknownPartner
from server.aggregates.pledge import (
    AmendmentChangesNothing,
    AmountBelowDisbursed,
    DisbursementAlreadyRecorded,
    DisbursementAmountNotPositive,
    DisbursementCurrencyMismatch,
    DisbursementExceedsPledge,
    PledgeAlreadyCancelled,
    PledgeAlreadyCommitted,
    PledgeAlreadyMade,
    PledgeAmountNotPositive,
    PledgeFullyDisbursed,
    PledgeIsCancelled,
    UnknownPledge,
)
from server.aggregates.site import UnknownSite
from tests import builders as b
from tests.aggregates.gwt import World, given, registered

PLEDGE = "5a0c1a53-8d3c-4a8f-9a57-3f1b0c6d2e10"
STREAM = f"pledge-{PLEDGE}"


def pledged(*more: tuple[str, dict[str, object]], **pledge: Any) -> World:
    """Partners and site registered, and a 250,000.00 EUR pledge by nrc."""
    return registered(("PledgeMade", b.pledge_made(PLEDGE, **pledge)), *more)


def paid(amount: str, **overrides: Any) -> tuple[str, dict[str, object]]:
    return ("DisbursementRecorded", b.disbursement_recorded(PLEDGE, amount=amount, **overrides))


# --- PledgeMade -------------------------------------------------------------------


def test_pledge_is_made() -> None:
    world = registered()
    world.when("PledgeMade", b.pledge_made(PLEDGE)).then()
    pledge = world[STREAM]
    assert (pledge.partner_id, pledge.amount, pledge.disbursed) == ("nrc", "250000.00", "0")


def test_pledge_of_zero_is_rejected() -> None:
    world = registered()
    world.when("PledgeMade", b.pledge_made(amount="0.00")).then_rejected(PledgeAmountNotPositive)


def test_pledge_period_may_be_one_day() -> None:
    world = registered()
    world.when("PledgeMade", b.pledge_made(period_end="2025-01-01")).then()


def test_pledge_period_cannot_end_before_it_starts() -> None:
    world = registered()
    outcome = world.when("PledgeMade", b.pledge_made(period_end="2024-12-31"))
    outcome.then_rejected(PeriodEndsBeforeStart)


def test_pledger_must_be_registered() -> None:
    world = registered()
    outcome = world.when("PledgeMade", b.pledge_made(partner_id="unhcr"))
    outcome.then_rejected(UnknownPartner)


def test_pledge_without_site_needs_no_site() -> None:
    world = given(("PartnerRegistered", b.partner_registered()))
    world.when("PledgeMade", b.pledge_made(site_id=None)).then()


def test_pledge_site_must_be_registered() -> None:
    world = registered()
    world.when("PledgeMade", b.pledge_made(site_id="varamin")).then_rejected(UnknownSite)


def test_pledge_id_is_unique() -> None:
    pledged().when("PledgeMade", b.pledge_made(PLEDGE)).then_rejected(PledgeAlreadyMade)


# --- PledgeCommitted --------------------------------------------------------------


def test_pledge_is_committed() -> None:
    world = pledged()
    world.when("PledgeCommitted", b.pledge_committed(PLEDGE)).then()
    assert world[STREAM].committed_on == "2025-02-01"


def test_unknown_pledge_cannot_be_committed() -> None:
    world = registered()
    world.when("PledgeCommitted", b.pledge_committed(PLEDGE)).then_rejected(UnknownPledge)


def test_pledge_is_committed_once() -> None:
    world = pledged(("PledgeCommitted", b.pledge_committed(PLEDGE)))
    outcome = world.when("PledgeCommitted", b.pledge_committed(PLEDGE))
    outcome.then_rejected(PledgeAlreadyCommitted)


def test_cancelled_pledge_cannot_be_committed() -> None:
    world = pledged(("PledgeCancelled", b.pledge_cancelled(PLEDGE)))
    world.when("PledgeCommitted", b.pledge_committed(PLEDGE)).then_rejected(PledgeIsCancelled)


# --- PledgeAmended ----------------------------------------------------------------


def test_pledge_amount_is_amended() -> None:
    world = pledged()
    world.when("PledgeAmended", b.pledge_amended(PLEDGE)).then()
    assert world[STREAM].amount == "300000.00"


def test_pledge_end_is_amended() -> None:
    world = pledged()
    world.when(
        "PledgeAmended", b.pledge_amended(PLEDGE, amount=None, period_end="2026-06-30")
    ).then()
    assert world[STREAM].period_end == "2026-06-30"


def test_amount_may_be_amended_down_to_what_was_disbursed() -> None:
    world = pledged(paid("100000.00"))
    world.when("PledgeAmended", b.pledge_amended(PLEDGE, amount="100000.00")).then()


def test_amount_is_never_amended_below_what_was_disbursed() -> None:
    world = pledged(paid("100000.00"))
    outcome = world.when("PledgeAmended", b.pledge_amended(PLEDGE, amount="99999.99"))
    outcome.then_rejected(AmountBelowDisbursed)


def test_amount_cannot_be_amended_to_zero() -> None:
    world = pledged()
    outcome = world.when("PledgeAmended", b.pledge_amended(PLEDGE, amount="0"))
    outcome.then_rejected(PledgeAmountNotPositive)


def test_amendment_must_change_something() -> None:
    world = pledged()
    outcome = world.when("PledgeAmended", b.pledge_amended(PLEDGE, amount=None))
    outcome.then_rejected(AmendmentChangesNothing)


def test_amendment_to_the_same_values_changes_nothing() -> None:
    world = pledged()
    same = b.pledge_amended(PLEDGE, amount="250000.0", period_end="2025-12-31")
    world.when("PledgeAmended", same).then_rejected(AmendmentChangesNothing)


def test_amended_end_cannot_precede_the_start() -> None:
    world = pledged()
    outcome = world.when(
        "PledgeAmended", b.pledge_amended(PLEDGE, amount=None, period_end="2024-12-31")
    )
    outcome.then_rejected(PeriodEndsBeforeStart)


def test_cancelled_pledge_cannot_be_amended() -> None:
    world = pledged(("PledgeCancelled", b.pledge_cancelled(PLEDGE)))
    world.when("PledgeAmended", b.pledge_amended(PLEDGE)).then_rejected(PledgeIsCancelled)


# --- DisbursementRecorded ---------------------------------------------------------


def test_disbursement_is_recorded() -> None:
    world = pledged(paid("50000.00"))
    world.when(*paid("25000.50")).then()
    assert world[STREAM].disbursed == "75000.50"


def test_disbursement_may_complete_the_pledge() -> None:
    world = pledged(paid("200000.00"))
    world.when(*paid("50000.00")).then()


def test_running_total_cannot_exceed_the_pledge() -> None:
    world = pledged(paid("200000.00"))
    world.when(*paid("50000.01")).then_rejected(DisbursementExceedsPledge)


def test_running_total_is_exact_decimal_arithmetic() -> None:
    # 0.1 + 0.2 + 0.3 is 0.6000000000000001 in floating point, which would exceed 0.6
    world = pledged(paid("0.1"), paid("0.2"), amount="0.6")
    world.when(*paid("0.3")).then()
    assert world[STREAM].disbursed == "0.6"
    world.when(*paid("0.0001")).then_rejected(DisbursementExceedsPledge)


def test_disbursement_is_in_the_pledge_currency() -> None:
    world = pledged()
    world.when(*paid("100.00", currency="USD")).then_rejected(DisbursementCurrencyMismatch)


def test_disbursement_of_zero_is_rejected() -> None:
    world = pledged()
    world.when(*paid("0")).then_rejected(DisbursementAmountNotPositive)


def test_disbursement_is_not_recorded_on_a_cancelled_pledge() -> None:
    world = pledged(("PledgeCancelled", b.pledge_cancelled(PLEDGE)))
    world.when(*paid("100.00")).then_rejected(PledgeIsCancelled)


def test_disbursement_needs_the_pledge() -> None:
    registered().when(*paid("100.00")).then_rejected(UnknownPledge)


def test_disbursement_recipient_is_a_registered_partner() -> None:
    world = pledged()
    world.when(*paid("100.00", recipient_partner_id="bafia")).then()
    assert world[STREAM].recipients == ["bafia"]


def test_disbursement_recipient_must_be_registered() -> None:
    world = pledged()
    world.when(*paid("100.00", recipient_partner_id="unhcr")).then_rejected(UnknownPartner)


def test_disbursement_id_is_recorded_once() -> None:
    again = "0b7e4c1e-7a39-4d53-a3a4-2b8c49a3d0f1"
    world = pledged(paid("100.00", disbursement_id=again))
    outcome = world.when(*paid("100.00", disbursement_id=again))
    outcome.then_rejected(DisbursementAlreadyRecorded)


# --- PledgeCancelled --------------------------------------------------------------


def test_partly_disbursed_pledge_is_cancelled() -> None:
    world = pledged(paid("100000.00"))
    world.when("PledgeCancelled", b.pledge_cancelled(PLEDGE)).then()
    assert world[STREAM].cancelled is True


def test_fully_disbursed_pledge_cannot_be_cancelled() -> None:
    world = pledged(paid("250000.00"))
    outcome = world.when("PledgeCancelled", b.pledge_cancelled(PLEDGE))
    outcome.then_rejected(PledgeFullyDisbursed)


def test_pledge_is_cancelled_once() -> None:
    world = pledged(("PledgeCancelled", b.pledge_cancelled(PLEDGE)))
    outcome = world.when("PledgeCancelled", b.pledge_cancelled(PLEDGE))
    outcome.then_rejected(PledgeAlreadyCancelled)
