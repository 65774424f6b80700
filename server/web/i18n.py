"""The dashboard's two languages: Persian (right to left, Persian digits, Solar Hijri)
and English (left to right, Gregorian), and how numbers, money and dates read in each."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

import jdatetime  # type: ignore[import-untyped]

from schemas.codes import SECTORS
from server.projections.periods import (
    GREGORIAN_MONTHS_EN,
    JALALI_MONTHS_FA,
    Calendar,
    month_labels,
    persian_digits,
)
from server.web.labels import LABELS

Lang = Literal["fa", "en"]
LANGUAGES: tuple[Lang, ...] = ("fa", "en")
LANG_COOKIE = "hamkari_lang"

_SECTORS = {code.code: (code.label_fa, code.label_en) for code in SECTORS}


def language_of(value: str | None) -> Lang:
    """The cookie's language; Persian unless English was chosen (Persian readers first)."""
    return "en" if value == "en" else "fa"


@dataclass(frozen=True)
class Locale:
    """Formatting for one language; the templates call it as `ui`."""

    lang: Lang

    @property
    def dir(self) -> str:
        return "rtl" if self.lang == "fa" else "ltr"

    @property
    def calendar(self) -> Calendar:
        return "jalali" if self.lang == "fa" else "gregorian"

    @property
    def other(self) -> Lang:
        return "en" if self.lang == "fa" else "fa"

    def t(self, key: str) -> str:
        fa, en = LABELS[key]
        return fa if self.lang == "fa" else en

    def digits(self, text: object) -> str:
        value = str(text)
        return persian_digits(value) if self.lang == "fa" else value

    def num(self, value: int | None) -> str:
        if value is None:
            return "—"
        text = f"{value:,}"
        return persian_digits(text.replace(",", "٬")) if self.lang == "fa" else text

    def money(self, value: str | Decimal | None, currency: str | None = None) -> str:
        """A decimal amount with its currency, grouped; never rounded."""
        if value is None:
            return "—"
        try:
            amount = Decimal(value)
        except InvalidOperation:
            return self.digits(value)
        whole, _, fraction = format(amount, "f").partition(".")
        grouped = f"{int(whole):,}" if whole not in ("-0",) else whole
        text = grouped + ("." + fraction if fraction.strip("0") else "")
        if self.lang == "fa":
            text = persian_digits(text.replace(",", "٬").replace(".", "٫"))
        return f"{text} {currency}" if currency else text

    def percent(self, value: str | None) -> str:
        if value is None:
            return "—"
        text = f"{value}%"
        return (
            persian_digits(text.replace(".", "٫").replace("%", "٪")) if self.lang == "fa" else text
        )

    def date(self, value: str | datetime.date | None) -> str:
        """A day in the reader's calendar: `۸ آبان ۱۴۰۵` or `30 October 2026`."""
        if value is None:
            return "—"
        day = datetime.date.fromisoformat(value) if isinstance(value, str) else value
        if self.lang == "fa":
            j = jdatetime.date.fromgregorian(date=day)
            return persian_digits(f"{j.day} {JALALI_MONTHS_FA[j.month - 1]} {j.year}")
        return f"{day.day} {GREGORIAN_MONTHS_EN[day.month - 1]} {day.year}"

    def moment(self, value: datetime.datetime | None) -> str:
        """A time of the log: the day in the reader's calendar, the clock in UTC."""
        if value is None:
            return "—"
        utc = value.astimezone(datetime.UTC)
        return f"{self.date(utc.date())} {self.digits(utc.strftime('%H:%M:%S'))} UTC"

    def month(self, key: int) -> str:
        fa, en = month_labels(key, self.calendar)
        return fa if self.lang == "fa" else en

    def sector(self, code: str | None) -> str:
        if code is None:
            return "—"
        fa, en = _SECTORS.get(code, (code, code))
        return fa if self.lang == "fa" else en

    def join(self, items: list[str]) -> str:
        return ("، " if self.lang == "fa" else ", ").join(items)

    def sectors(self, codes: list[str]) -> str:
        return self.join([self.sector(code) for code in codes])

    def name(self, fa: str | None, en: str | None) -> str:
        """A pair of names: the reader's, the other when it is missing."""
        first, second = (fa, en) if self.lang == "fa" else (en, fa)
        return first or second or "—"
