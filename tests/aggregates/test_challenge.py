"""Challenges: reported once by a registered partner, at a registered site if any."""

from __future__ import annotations

from server.aggregates.challenge import ChallengeAlreadyReported
from server.aggregates.partner import UnknownPartner
from server.aggregates.site import UnknownSite
from tests import builders as b
from tests.aggregates.gwt import registered

CHALLENGE = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"


def test_challenge_is_reported() -> None:
    world = registered()
    world.when("ChallengeReported", b.challenge_reported(CHALLENGE)).then()
    assert world[f"challenge-{CHALLENGE}"].partner_id == "nrc"


def test_challenge_without_a_site() -> None:
    world = registered()
    world.when("ChallengeReported", b.challenge_reported(site_id=None)).then()


def test_challenge_reporter_must_be_registered() -> None:
    world = registered()
    outcome = world.when("ChallengeReported", b.challenge_reported(partner_id="unhcr"))
    outcome.then_rejected(UnknownPartner)


def test_challenge_site_must_be_registered() -> None:
    world = registered()
    outcome = world.when("ChallengeReported", b.challenge_reported(site_id="varamin"))
    outcome.then_rejected(UnknownSite)


def test_challenge_is_reported_once() -> None:
    world = registered(("ChallengeReported", b.challenge_reported(CHALLENGE)))
    outcome = world.when("ChallengeReported", b.challenge_reported(CHALLENGE))
    outcome.then_rejected(ChallengeAlreadyReported)
