"""Partners: registered once, suspended and reinstated; suspended partners may not post."""

from __future__ import annotations

import pytest

from server.aggregates.partner import (
    Partner,
    PartnerAlreadyRegistered,
    PartnerAlreadySuspended,
    PartnerNotSuspended,
    PartnerSuspended,
    UnknownPartner,
    check_partner_may_post,
)
from tests import builders as b
from tests.aggregates.gwt import given


def test_partner_is_registered_active() -> None:
    world = given()
    world.when("PartnerRegistered", b.partner_registered()).then()
    partner = world["partner-nrc"]
    assert isinstance(partner, Partner)
    assert (partner.partner_id, partner.active, partner.version) == ("nrc", True, 1)


def test_partner_id_is_unique() -> None:
    world = given(("PartnerRegistered", b.partner_registered()))
    world.when("PartnerRegistered", b.partner_registered(name_en="Another")).then_rejected(
        PartnerAlreadyRegistered
    )


def test_partner_is_suspended() -> None:
    world = given(("PartnerRegistered", b.partner_registered()))
    world.when("PartnerSuspended", b.partner_suspended()).then()
    assert world["partner-nrc"].active is False


def test_unknown_partner_cannot_be_suspended() -> None:
    given().when("PartnerSuspended", b.partner_suspended()).then_rejected(UnknownPartner)


def test_suspended_partner_cannot_be_suspended_again() -> None:
    world = given(
        ("PartnerRegistered", b.partner_registered()), ("PartnerSuspended", b.partner_suspended())
    )
    world.when("PartnerSuspended", b.partner_suspended()).then_rejected(PartnerAlreadySuspended)


def test_suspended_partner_is_reinstated() -> None:
    world = given(
        ("PartnerRegistered", b.partner_registered()), ("PartnerSuspended", b.partner_suspended())
    )
    world.when("PartnerReinstated", b.partner_reinstated()).then()
    assert world["partner-nrc"].active is True


def test_active_partner_cannot_be_reinstated() -> None:
    world = given(("PartnerRegistered", b.partner_registered()))
    world.when("PartnerReinstated", b.partner_reinstated()).then_rejected(PartnerNotSuspended)


def test_active_partner_may_post() -> None:
    world = given(("PartnerRegistered", b.partner_registered()))
    check_partner_may_post(world["partner-nrc"])


def test_suspended_partner_cannot_post() -> None:
    world = given(
        ("PartnerRegistered", b.partner_registered()), ("PartnerSuspended", b.partner_suspended())
    )
    with pytest.raises(PartnerSuspended) as raised:
        check_partner_may_post(world["partner-nrc"])
    assert raised.value.rule == "partner-suspended"


def test_unregistered_partner_cannot_post() -> None:
    with pytest.raises(UnknownPartner):
        check_partner_may_post(None)
