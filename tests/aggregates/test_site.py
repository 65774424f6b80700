"""Sites: registered once, closed once (deliveries after closure: see test_delivery)."""

from __future__ import annotations

from server.aggregates.site import SiteAlreadyClosed, SiteAlreadyRegistered, UnknownSite
from tests import builders as b
from tests.aggregates.gwt import given


def test_site_is_registered_open() -> None:
    world = given()
    world.when("SiteRegistered", b.site_registered()).then()
    assert world["site-gol-tappeh"].closed_on is None


def test_site_id_is_unique() -> None:
    world = given(("SiteRegistered", b.site_registered()))
    world.when("SiteRegistered", b.site_registered()).then_rejected(SiteAlreadyRegistered)


def test_site_is_closed() -> None:
    world = given(("SiteRegistered", b.site_registered()))
    world.when("SiteClosed", b.site_closed()).then()
    assert world["site-gol-tappeh"].closed_on == "2025-06-30"


def test_unknown_site_cannot_be_closed() -> None:
    given().when("SiteClosed", b.site_closed()).then_rejected(UnknownSite)


def test_closed_site_cannot_be_closed_again() -> None:
    world = given(("SiteRegistered", b.site_registered()), ("SiteClosed", b.site_closed()))
    world.when("SiteClosed", b.site_closed(closed_on="2025-07-31")).then_rejected(SiteAlreadyClosed)
