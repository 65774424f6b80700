"""Targets: set by a registered partner (or a coordinator for it), at a registered site
if any, over a period in order; a later TargetSet with the same id replaces it whole,
but never moves it to another partner."""

from __future__ import annotations

from server.aggregates.base import PeriodEndsBeforeStart
from server.aggregates.partner import UnknownPartner
from server.aggregates.site import UnknownSite
from server.aggregates.target import TargetPartnerChanged
from tests import builders as b
from tests.aggregates.gwt import registered

TARGET = "5e7d9c3b-1a2f-4e6d-8c0b-9a8f7e6d5c4b"


def test_a_target_is_set_with_its_planned_total() -> None:
    world = registered()
    world.when("TargetSet", b.target_set(TARGET)).then("TargetSet")
    target = world[f"target-{TARGET}"]
    assert (target.partner_id, target.sector, target.planned) == ("nrc", "education", 580)


def test_a_target_in_cells_plans_their_total() -> None:
    cells = {
        "cells": [
            {"sex": "f", "age": "5-11", "count": 40},
            {"sex": "x", "age": "unknown", "count": 2},
        ]
    }
    world = registered()
    world.when("TargetSet", b.target_set(TARGET, beneficiaries=cells)).then("TargetSet")
    assert world[f"target-{TARGET}"].planned == 42


def test_a_later_target_set_replaces_the_target() -> None:
    world = registered(("TargetSet", b.target_set(TARGET)))
    replaced = b.target_set(
        TARGET,
        sector="health",
        site_id=None,
        beneficiaries={"women": 100, "men": 0, "girls": 0, "boys": 0},
        reason="Halved after the funding cut",
    )
    world.when("TargetSet", replaced).then("TargetSet")
    target = world[f"target-{TARGET}"]
    assert (target.sector, target.site_id, target.planned) == ("health", None, 100)
    assert target.version == 2 and target.replacements == 1


def test_a_target_stays_its_partners() -> None:
    world = registered(("TargetSet", b.target_set(TARGET)))
    outcome = world.when("TargetSet", b.target_set(TARGET, partner_id="bafia"))
    outcome.then_rejected(TargetPartnerChanged)


def test_a_targets_partner_must_be_registered() -> None:
    outcome = registered().when("TargetSet", b.target_set(partner_id="unhcr"))
    outcome.then_rejected(UnknownPartner)


def test_a_targets_site_must_be_registered() -> None:
    outcome = registered().when("TargetSet", b.target_set(site_id="varamin"))
    outcome.then_rejected(UnknownSite)


def test_a_targets_period_ends_after_it_starts() -> None:
    outcome = registered().when(
        "TargetSet", b.target_set(period_start="2025-06-01", period_end="2025-05-31")
    )
    outcome.then_rejected(PeriodEndsBeforeStart)


def test_a_replacement_is_checked_like_the_first() -> None:
    world = registered(("TargetSet", b.target_set(TARGET)))
    outcome = world.when("TargetSet", b.target_set(TARGET, site_id="varamin"))
    outcome.then_rejected(UnknownSite)
