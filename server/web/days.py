"""Days in the page's calendar for the forms: a date drawn as a person would type it
(`۱۴۰۵/۰۸/۰۱` in Persian, `2026-10-23` in English) and the list a date field offers
as its picker. Typed dates are read by `server.imports.cells.date`, as in a spreadsheet."""

from __future__ import annotations

import datetime

import jdatetime  # type: ignore[import-untyped]

from server.web.i18n import Locale

# the picker's days: a quarter back (reports of the last months), half a year ahead
# (commitments' due dates); any other day is typed
PAST_DAYS = 92
FUTURE_DAYS = 183


def typed_day(ui: Locale, day: datetime.date | str | None) -> str:
    """A day as the date field of a form in `ui`'s calendar shows it."""
    if day is None or day == "":
        return ""
    value = datetime.date.fromisoformat(day) if isinstance(day, str) else day
    if ui.lang == "fa":
        j = jdatetime.date.fromgregorian(date=value)
        return ui.digits(f"{j.year:04d}/{j.month:02d}/{j.day:02d}")
    return value.isoformat()


def day_choices(ui: Locale, today: datetime.date) -> list[tuple[str, str]]:
    """(value as typed, the day in words) for every day the picker offers, newest first."""
    days = (
        today + datetime.timedelta(days=offset) for offset in range(FUTURE_DAYS, -PAST_DAYS - 1, -1)
    )
    return [(typed_day(ui, day), ui.date(day)) for day in days]
