"""Months in the Gregorian and the Solar Hijri (Jalali) calendars: keys, labels, bounds.

A month is kept as an integer key `year * 100 + month` in its calendar (202510,
140407); labels are given in Persian and English. Jalali conversion is jdatetime's."""

from __future__ import annotations

import datetime
import functools
import re
from typing import Literal

import jdatetime  # type: ignore[import-untyped]
import msgspec

Calendar = Literal["gregorian", "jalali"]
CALENDARS: tuple[Calendar, ...] = ("gregorian", "jalali")

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

GREGORIAN_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
GREGORIAN_MONTHS_FA = (
    "ژانویه",
    "فوریه",
    "مارس",
    "آوریل",
    "مه",
    "ژوئن",
    "ژوئیه",
    "اوت",
    "سپتامبر",
    "اکتبر",
    "نوامبر",
    "دسامبر",
)
JALALI_MONTHS_FA = tuple(jdatetime.date.j_months_fa)
JALALI_MONTHS_EN = tuple(jdatetime.date.j_months_en)


class PeriodError(ValueError):
    """A month or a range of months that cannot be read."""


@functools.lru_cache(maxsize=8192)
def month_keys(day: datetime.date) -> tuple[int, int]:
    """The (Gregorian, Jalali) month keys of a day; cached, since folds ask per delivery."""
    jalali = jdatetime.date.fromgregorian(date=day)
    return day.year * 100 + day.month, jalali.year * 100 + jalali.month


def month_key(day: datetime.date, calendar: Calendar) -> int:
    gregorian, jalali = month_keys(day)
    return jalali if calendar == "jalali" else gregorian


def parse_month(text: str, calendar: Calendar) -> int:
    """`YYYY-MM` in `calendar` -> its key; PeriodError when it is not a month there."""
    match = _MONTH.match(text)
    if match is None:
        raise PeriodError(f"{text!r} is not a month written YYYY-MM")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise PeriodError(f"{text!r}: months run from 01 to 12")
    low, high = (1300, 1500) if calendar == "jalali" else (1900, 2200)
    if not low <= year <= high:
        hint = " (did you mean ?calendar=jalali?)" if 1300 <= year <= 1500 else ""
        raise PeriodError(f"{text!r}: year outside {low}-{high} in the {calendar} calendar{hint}")
    return year * 100 + month


def format_month(key: int) -> str:
    return f"{key // 100:04d}-{key % 100:02d}"


def persian_digits(text: str) -> str:
    return text.translate(_PERSIAN_DIGITS)


def month_labels(key: int, calendar: Calendar) -> tuple[str, str]:
    """(Persian, English) label of a month: ("مهر ۱۴۰۴", "Mehr 1404")."""
    year, month = divmod(key, 100)
    if calendar == "jalali":
        fa, en = JALALI_MONTHS_FA[month - 1], JALALI_MONTHS_EN[month - 1]
    else:
        fa, en = GREGORIAN_MONTHS_FA[month - 1], GREGORIAN_MONTHS_EN[month - 1]
    return f"{fa} {persian_digits(str(year))}", f"{en} {year}"


def first_day(key: int, calendar: Calendar) -> datetime.date:
    """The Gregorian date of the first day of a month."""
    year, month = divmod(key, 100)
    if calendar == "jalali":
        result: datetime.date = jdatetime.date(year, month, 1).togregorian()
        return result
    return datetime.date(year, month, 1)


def next_month(key: int) -> int:
    year, month = divmod(key, 100)
    return (year + 1) * 100 + 1 if month == 12 else key + 1


def last_day(key: int, calendar: Calendar) -> datetime.date:
    """The Gregorian date of the last day of a month."""
    return first_day(next_month(key), calendar) - datetime.timedelta(days=1)


class Period(msgspec.Struct, frozen=True, kw_only=True):
    """Months `first`..`last` (keys, inclusive; None: open) in one calendar."""

    calendar: Calendar = "gregorian"
    first: int | None = None
    last: int | None = None

    @property
    def start(self) -> datetime.date | None:
        return None if self.first is None else first_day(self.first, self.calendar)

    @property
    def end(self) -> datetime.date | None:
        return None if self.last is None else last_day(self.last, self.calendar)

    @property
    def column(self) -> str:
        """The read-model column holding a delivery's month in this calendar."""
        return "j_month" if self.calendar == "jalali" else "g_month"

    def describe(self) -> dict[str, str | None]:
        start, end = self.start, self.end
        return {
            "calendar": self.calendar,
            "from": None if self.first is None else format_month(self.first),
            "to": None if self.last is None else format_month(self.last),
            "start": None if start is None else start.isoformat(),
            "end": None if end is None else end.isoformat(),
        }


def parse_period(calendar: str | None, first: str | None, last: str | None) -> Period:
    """`?calendar=&from=&to=` -> a Period; PeriodError names what is wrong."""
    name = calendar or "gregorian"
    if name not in CALENDARS:
        raise PeriodError(f"calendar must be one of {', '.join(CALENDARS)}, not {name!r}")
    cal: Calendar = "jalali" if name == "jalali" else "gregorian"
    period = Period(
        calendar=cal,
        first=None if first is None else parse_month(first, cal),
        last=None if last is None else parse_month(last, cal),
    )
    if period.first is not None and period.last is not None and period.first > period.last:
        raise PeriodError(f"from {first} is after to {last}")
    return period


#: The columns a month takes in a report row.
MONTH_COLUMNS = ("month", "month_label_fa", "month_label_en")


@functools.lru_cache(maxsize=4096)
def month_values(key: int, calendar: Calendar) -> tuple[str, str, str]:
    """The `month`, `month_label_fa`, `month_label_en` values of a month (cached)."""
    fa, en = month_labels(key, calendar)
    return format_month(key), fa, en
