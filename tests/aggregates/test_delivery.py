"""Deliveries: recorded by an active partner at an open site for a past, unlocked
period, against a pledge that funds it; corrected and retracted by the same rules."""

from __future__ import annotations

from typing import Any

from server.aggregates.base import PeriodEndsBeforeStart
from server.aggregates.delivery import (
    CorrectionChangesNothing,
    DeliveryAfterSiteClosure,
    DeliveryAlreadyRecorded,
    DeliveryAlreadyRetracted,
    DeliveryInFuture,
    DeliveryInLockedPeriod,
    DeliveryIsRetracted,
    PledgeDoesNotCoverSector,
    PledgeNotForPartner,
    UnknownDelivery,
)
from server.aggregates.partner import PartnerSuspended, UnknownPartner
from server.aggregates.pledge import PledgeIsCancelled, UnknownPledge
from server.aggregates.site import UnknownSite
from tests import builders as b
from tests.aggregates.gwt import TODAY, World, registered

DELIVERY = "c3a7f0de-2f4e-4c52-b0e1-6a7d9e8f1234"
STREAM = f"delivery-{DELIVERY}"
NRC_PLEDGE = "11111111-2222-4333-8444-555555555555"
BAFIA_PLEDGE = "66666666-7777-4888-9999-000000000000"

Event = tuple[str, dict[str, object]]


def delivery(**overrides: Any) -> dict[str, object]:
    return b.service_delivered(DELIVERY, **overrides)


def delivered(*before: Event, **overrides: Any) -> World:
    """Partners and site registered, `before`, then nrc's March 2025 delivery."""
    return registered(*before, ("ServiceDelivered", delivery(**overrides)))


def correction(**overrides: Any) -> dict[str, object]:
    return b.delivery_corrected(DELIVERY, **overrides)


def locked(month: str = "2025-03", calendar: str = "gregorian") -> Event:
    return ("PeriodLocked", b.period_locked(month, calendar=calendar))


def pledge(pledge_id: str, partner_id: str, **overrides: Any) -> Event:
    return ("PledgeMade", b.pledge_made(pledge_id, partner_id=partner_id, **overrides))


# --- ServiceDelivered -------------------------------------------------------------


def test_service_is_delivered() -> None:
    world = registered()
    world.when("ServiceDelivered", delivery()).then()
    recorded = world[STREAM]
    assert (recorded.partner_id, recorded.site_id, recorded.period_end) == (
        "nrc",
        "gol-tappeh",
        "2025-03-31",
    )
    assert recorded.beneficiaries == {"women": 12, "men": 9, "girls": 20, "boys": 18}


def test_delivery_id_is_unique() -> None:
    delivered().when("ServiceDelivered", delivery()).then_rejected(DeliveryAlreadyRecorded)


def test_suspended_partner_cannot_deliver() -> None:
    world = registered(("PartnerSuspended", b.partner_suspended()))
    world.when("ServiceDelivered", delivery()).then_rejected(PartnerSuspended)


def test_reinstated_partner_delivers() -> None:
    world = registered(
        ("PartnerSuspended", b.partner_suspended()), ("PartnerReinstated", b.partner_reinstated())
    )
    world.when("ServiceDelivered", delivery()).then()


def test_unregistered_partner_cannot_deliver() -> None:
    world = registered()
    world.when("ServiceDelivered", delivery(partner_id="unhcr")).then_rejected(UnknownPartner)


def test_site_must_be_registered() -> None:
    world = registered()
    world.when("ServiceDelivered", delivery(site_id="varamin")).then_rejected(UnknownSite)


def test_delivery_may_end_the_day_the_site_closes() -> None:
    world = registered(("SiteClosed", b.site_closed(closed_on="2025-03-31")))
    world.when("ServiceDelivered", delivery()).then()


def test_no_delivery_is_dated_after_the_site_closed() -> None:
    world = registered(("SiteClosed", b.site_closed(closed_on="2025-03-30")))
    world.when("ServiceDelivered", delivery()).then_rejected(DeliveryAfterSiteClosure)


def test_delivery_period_cannot_end_before_it_starts() -> None:
    world = registered()
    outcome = world.when("ServiceDelivered", delivery(period_end="2025-02-28"))
    outcome.then_rejected(PeriodEndsBeforeStart)


def test_delivery_may_end_today() -> None:
    world = registered()
    world.when("ServiceDelivered", delivery(period_end=TODAY.isoformat())).then()


def test_delivery_period_is_not_in_the_future() -> None:
    world = registered()
    outcome = world.when("ServiceDelivered", delivery(period_end="2025-04-16"))
    outcome.then_rejected(DeliveryInFuture)


def test_delivery_outside_locked_months_is_recorded() -> None:
    world = registered(locked("2025-02"))
    world.when("ServiceDelivered", delivery()).then()


def test_delivery_in_a_locked_month_is_rejected() -> None:
    world = registered(locked("2025-02"))
    outcome = world.when("ServiceDelivered", delivery(period_start="2025-02-25"))
    outcome.then_rejected(DeliveryInLockedPeriod)


def test_delivery_in_a_locked_jalali_month_is_rejected() -> None:
    # Esfand 1403 is 2025-02-19..2025-03-20: it covers the start of March
    world = registered(locked("1403-12", "jalali"))
    world.when("ServiceDelivered", delivery()).then_rejected(DeliveryInLockedPeriod)


def test_delivery_after_a_locked_jalali_month_is_recorded() -> None:
    world = registered(locked("1403-12", "jalali"))
    world.when("ServiceDelivered", delivery(period_start="2025-03-21")).then()


def test_delivery_in_an_unlocked_month_is_recorded() -> None:
    world = registered(locked(), ("PeriodUnlocked", b.period_unlocked()))
    world.when("ServiceDelivered", delivery()).then()


def test_delivery_names_its_partners_own_pledge() -> None:
    world = registered(pledge(NRC_PLEDGE, "nrc"))
    world.when("ServiceDelivered", delivery(pledge_id=NRC_PLEDGE)).then()


def test_delivery_names_a_pledge_that_funds_its_partner() -> None:
    world = registered(
        pledge(BAFIA_PLEDGE, "bafia"),
        ("DisbursementRecorded", b.disbursement_recorded(BAFIA_PLEDGE, recipient_partner_id="nrc")),
    )
    world.when("ServiceDelivered", delivery(pledge_id=BAFIA_PLEDGE)).then()


def test_delivery_cannot_name_another_partners_pledge() -> None:
    world = registered(pledge(BAFIA_PLEDGE, "bafia"))
    outcome = world.when("ServiceDelivered", delivery(pledge_id=BAFIA_PLEDGE))
    outcome.then_rejected(PledgeNotForPartner)


def test_named_pledge_must_cover_the_sector() -> None:
    world = registered(pledge(NRC_PLEDGE, "nrc", sectors=["health"]))
    outcome = world.when("ServiceDelivered", delivery(pledge_id=NRC_PLEDGE))
    outcome.then_rejected(PledgeDoesNotCoverSector)


def test_named_pledge_must_exist() -> None:
    world = registered()
    outcome = world.when("ServiceDelivered", delivery(pledge_id=NRC_PLEDGE))
    outcome.then_rejected(UnknownPledge)


def test_named_pledge_must_not_be_cancelled() -> None:
    world = registered(
        pledge(NRC_PLEDGE, "nrc"), ("PledgeCancelled", b.pledge_cancelled(NRC_PLEDGE))
    )
    outcome = world.when("ServiceDelivered", delivery(pledge_id=NRC_PLEDGE))
    outcome.then_rejected(PledgeIsCancelled)


# --- DeliveryCorrected ------------------------------------------------------------


def test_delivery_is_corrected_and_the_original_stays() -> None:
    world = delivered()
    original = world.log[-1].event
    world.when("DeliveryCorrected", correction(notes="Recounted")).then()
    corrected = world[STREAM]
    assert corrected.beneficiaries["women"] == 14
    assert corrected.notes == "Recounted"
    assert corrected.corrections == 1
    assert original.data.beneficiaries.women == 12


def test_unknown_delivery_cannot_be_corrected() -> None:
    world = registered()
    world.when("DeliveryCorrected", correction()).then_rejected(UnknownDelivery)


def test_correction_must_send_a_field() -> None:
    world = delivered()
    outcome = world.when("DeliveryCorrected", {"delivery_id": DELIVERY, "reason": "none"})
    outcome.then_rejected(CorrectionChangesNothing)


def test_correction_to_the_same_values_changes_nothing() -> None:
    world = delivered()
    same = correction(beneficiaries=b.short_form(), sector="education", pledge_id=None)
    world.when("DeliveryCorrected", same).then_rejected(CorrectionChangesNothing)


def test_retracted_delivery_cannot_be_corrected() -> None:
    world = delivered()
    world.when("DeliveryRetracted", b.delivery_retracted(DELIVERY)).then()
    world.when("DeliveryCorrected", correction()).then_rejected(DeliveryIsRetracted)


def test_correction_moves_the_period_within_the_past() -> None:
    world = delivered()
    outcome = world.when("DeliveryCorrected", correction(period_end="2025-04-10"))
    outcome.then()
    assert world[STREAM].period_end == "2025-04-10"


def test_correction_cannot_move_the_period_into_the_future() -> None:
    world = delivered()
    outcome = world.when("DeliveryCorrected", correction(period_end="2025-05-31"))
    outcome.then_rejected(DeliveryInFuture)


def test_corrected_period_cannot_end_before_it_starts() -> None:
    world = delivered()
    outcome = world.when("DeliveryCorrected", correction(period_start="2025-04-01"))
    outcome.then_rejected(PeriodEndsBeforeStart)


def test_correction_cannot_move_into_a_locked_month() -> None:
    world = delivered(locked("2025-02"))
    outcome = world.when("DeliveryCorrected", correction(period_start="2025-02-15"))
    outcome.then_rejected(DeliveryInLockedPeriod)


def test_delivery_in_a_locked_month_cannot_be_corrected() -> None:
    world = delivered()
    world.when(*locked()).then()
    outcome = world.when(
        "DeliveryCorrected", correction(period_start="2025-04-01", period_end="2025-04-10")
    )
    outcome.then_rejected(DeliveryInLockedPeriod)


def test_correction_cannot_move_to_a_site_closed_before_the_period_ends() -> None:
    world = delivered(
        ("SiteRegistered", b.site_registered("varamin")),
        ("SiteClosed", b.site_closed("varamin", closed_on="2025-03-15")),
    )
    outcome = world.when("DeliveryCorrected", correction(site_id="varamin"))
    outcome.then_rejected(DeliveryAfterSiteClosure)


def test_correction_moves_to_another_open_site() -> None:
    world = delivered(("SiteRegistered", b.site_registered("varamin")))
    world.when("DeliveryCorrected", correction(site_id="varamin")).then()
    assert world[STREAM].site_id == "varamin"


def test_correction_cannot_move_to_an_unknown_site() -> None:
    world = delivered()
    outcome = world.when("DeliveryCorrected", correction(site_id="varamin"))
    outcome.then_rejected(UnknownSite)


def test_correction_cannot_extend_past_the_site_closure() -> None:
    world = delivered(("SiteClosed", b.site_closed(closed_on="2025-04-05")))
    outcome = world.when("DeliveryCorrected", correction(period_end="2025-04-10"))
    outcome.then_rejected(DeliveryAfterSiteClosure)


def test_correction_names_the_partners_pledge() -> None:
    world = delivered(pledge(NRC_PLEDGE, "nrc"))
    world.when("DeliveryCorrected", correction(pledge_id=NRC_PLEDGE)).then()
    assert world[STREAM].pledge_id == NRC_PLEDGE


def test_correction_cannot_name_another_partners_pledge() -> None:
    world = delivered(pledge(BAFIA_PLEDGE, "bafia"))
    outcome = world.when("DeliveryCorrected", correction(pledge_id=BAFIA_PLEDGE))
    outcome.then_rejected(PledgeNotForPartner)


def test_corrected_sector_must_be_covered_by_the_pledge() -> None:
    world = delivered(pledge(NRC_PLEDGE, "nrc"), pledge_id=NRC_PLEDGE)
    outcome = world.when("DeliveryCorrected", correction(sector="health"))
    outcome.then_rejected(PledgeDoesNotCoverSector)


def test_correction_clears_the_pledge() -> None:
    world = delivered(pledge(NRC_PLEDGE, "nrc"), pledge_id=NRC_PLEDGE)
    world.when("DeliveryCorrected", correction(pledge_id=None)).then()
    assert world[STREAM].pledge_id is None


# --- DeliveryRetracted ------------------------------------------------------------


def test_delivery_is_retracted() -> None:
    world = delivered()
    world.when("DeliveryRetracted", b.delivery_retracted(DELIVERY)).then()
    assert world[STREAM].retracted is True


def test_delivery_is_retracted_once() -> None:
    world = delivered()
    world.when("DeliveryRetracted", b.delivery_retracted(DELIVERY)).then()
    outcome = world.when("DeliveryRetracted", b.delivery_retracted(DELIVERY))
    outcome.then_rejected(DeliveryAlreadyRetracted)


def test_unknown_delivery_cannot_be_retracted() -> None:
    world = registered()
    outcome = world.when("DeliveryRetracted", b.delivery_retracted(DELIVERY))
    outcome.then_rejected(UnknownDelivery)


def test_delivery_in_a_locked_month_cannot_be_retracted() -> None:
    world = delivered()
    world.when(*locked()).then()
    outcome = world.when("DeliveryRetracted", b.delivery_retracted(DELIVERY))
    outcome.then_rejected(DeliveryInLockedPeriod)
