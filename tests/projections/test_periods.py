"""Months in both calendars: keys, bounds, labels, and the parameters that name them."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.projections.periods import (
    PeriodError,
    first_day,
    last_day,
    month_key,
    month_labels,
    parse_month,
    parse_period,
)


def test_a_jalali_month_spans_two_gregorian_months() -> None:
    mehr = parse_month("1404-07", "jalali")
    assert (first_day(mehr, "jalali"), last_day(mehr, "jalali")) == (
        datetime.date(2025, 9, 23),
        datetime.date(2025, 10, 22),
    )
    assert month_key(datetime.date(2025, 9, 22), "jalali") == 140406
    assert month_key(datetime.date(2025, 9, 23), "jalali") == 140407


def test_esfand_ends_the_day_before_nowruz_in_leap_and_common_years() -> None:
    assert last_day(140312, "jalali") == datetime.date(2025, 3, 20)  # 1403 is leap: 30 days
    assert last_day(140412, "jalali") == datetime.date(2026, 3, 20)
    assert first_day(140501, "jalali") == datetime.date(2026, 3, 21)


def test_labels_are_persian_and_english() -> None:
    assert month_labels(140407, "jalali") == ("مهر ۱۴۰۴", "Mehr 1404")
    assert month_labels(140412, "jalali") == ("اسفند ۱۴۰۴", "Esfand 1404")
    assert month_labels(202510, "gregorian") == ("اکتبر ۲۰۲۵", "October 2025")


@pytest.mark.parametrize(
    ("calendar", "first", "last", "says"),
    [
        ("lunar", None, None, "calendar"),
        ("gregorian", "2025-1", None, "YYYY-MM"),
        ("gregorian", "2025-00", None, "01 to 12"),
        ("gregorian", "1404-07", None, "calendar=jalali"),
        ("jalali", "2025-10", None, "year outside"),
        ("gregorian", "2025-10", "2025-09", "after"),
    ],
)
def test_bad_periods_say_what_is_wrong(
    calendar: str, first: str | None, last: str | None, says: str
) -> None:
    with pytest.raises(PeriodError, match=says):
        parse_period(calendar, first, last)


@given(st.dates(min_value=datetime.date(1950, 1, 1), max_value=datetime.date(2150, 12, 31)))
def test_every_day_lies_in_its_month_in_both_calendars(day: datetime.date) -> None:
    for calendar in ("gregorian", "jalali"):
        key = month_key(day, calendar)  # type: ignore[arg-type]
        assert first_day(key, calendar) <= day <= last_day(key, calendar)  # type: ignore[arg-type]
