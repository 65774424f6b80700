"""Period locks: a month, Gregorian or Jalali, is locked once and unlocked with a reason.
(What a lock does to deliveries: see test_delivery.)"""

from __future__ import annotations

import datetime

import pytest

from schemas import events
from server.aggregates.periods import (
    MonthOutOfRange,
    PeriodAlreadyLocked,
    PeriodNotLocked,
    UnlockReasonMissing,
    month_range,
)
from tests import builders as b
from tests.aggregates.gwt import given

D = datetime.date


@pytest.mark.parametrize(
    ("month", "calendar", "first", "last"),
    [
        ("2025-03", "gregorian", D(2025, 3, 1), D(2025, 3, 31)),
        ("2024-02", "gregorian", D(2024, 2, 1), D(2024, 2, 29)),
        ("2025-12", "gregorian", D(2025, 12, 1), D(2025, 12, 31)),
        ("1404-07", "jalali", D(2025, 9, 23), D(2025, 10, 22)),
        ("1404-01", "jalali", D(2025, 3, 21), D(2025, 4, 20)),
        ("1403-12", "jalali", D(2025, 2, 19), D(2025, 3, 20)),  # leap Esfand, 30 days
        ("1404-12", "jalali", D(2026, 2, 20), D(2026, 3, 20)),  # common Esfand, 29 days
    ],
)
def test_month_spans_these_gregorian_days(
    month: str, calendar: str, first: datetime.date, last: datetime.date
) -> None:
    assert month_range(month, calendar) == (first, last)


def test_month_is_locked() -> None:
    world = given()
    world.when("PeriodLocked", b.period_locked()).then()
    world.when("PeriodLocked", b.period_locked("1404-07", calendar="jalali")).then()
    assert set(world["periods"].locks) == {"gregorian:2025-03", "jalali:1404-07"}


def test_month_is_locked_once() -> None:
    world = given(("PeriodLocked", b.period_locked()))
    world.when("PeriodLocked", b.period_locked()).then_rejected(PeriodAlreadyLocked)


def test_month_out_of_the_calendar_is_rejected() -> None:
    world = given()
    world.when("PeriodLocked", b.period_locked("0000-01")).then_rejected(MonthOutOfRange)


def test_locked_month_is_unlocked() -> None:
    world = given(("PeriodLocked", b.period_locked()))
    world.when("PeriodUnlocked", b.period_unlocked()).then()
    assert world["periods"].locks == {}


def test_month_never_locked_cannot_be_unlocked() -> None:
    given().when("PeriodUnlocked", b.period_unlocked()).then_rejected(PeriodNotLocked)


def test_month_unlocked_already_cannot_be_unlocked() -> None:
    world = given(("PeriodLocked", b.period_locked()), ("PeriodUnlocked", b.period_unlocked()))
    world.when("PeriodUnlocked", b.period_unlocked()).then_rejected(PeriodNotLocked)


def test_month_is_unlocked_in_the_calendar_it_was_locked_in() -> None:
    world = given(("PeriodLocked", b.period_locked("1404-07", calendar="jalali")))
    world.when("PeriodUnlocked", b.period_unlocked("1404-07")).then_rejected(PeriodNotLocked)


def test_unlocking_needs_a_reason() -> None:
    # the schema rejects a blank reason at the edge; the rule holds even without it
    world = given(("PeriodLocked", b.period_locked()))
    blank = events.PeriodUnlocked(month="2025-03", reason="   ")
    world.when("PeriodUnlocked", blank).then_rejected(UnlockReasonMissing)
