"""The dashboard's two languages: Persian (right to left, Persian digits, Solar Hijri)
and English (left to right, Gregorian), how numbers, money, dates and people's own text
read in each, and the one place where digits a person typed are read back."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

import jdatetime  # type: ignore[import-untyped]
from markupsafe import Markup, escape

from schemas.codes import PARTNER_KINDS, SECTORS
from server.imports.cells import DIGITS
from server.projections.commitments import TEHRAN
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
_KINDS = {code.code: (code.label_fa, code.label_en) for code in PARTNER_KINDS}


def latin_digits(text: str) -> str:
    """What a person typed, with Persian and Arabic-Indic digits read as 0-9: every
    filter a page offers goes through here before it is parsed."""
    return text.translate(DIGITS)


def typed_month(text: str | None) -> str | None:
    """A month as a person writes it (`۱۴۰۵-۷`, `1405/07`, ` ١٤٠٥-٠٧ `) -> `YYYY-MM`,
    or None when blank. Anything else is returned as typed, for the parser to refuse."""
    if text is None or not text.strip():
        return None
    value = latin_digits(text.strip()).replace("/", "-")
    year, dash, month = value.partition("-")
    if dash and len(year) == 4 and month.isascii() and month.isdigit() and len(month) == 1:
        value = f"{year}-0{month}"
    return value


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

    @property
    def comma(self) -> str:
        """The list separator: the Persian comma in Persian."""
        return "، " if self.lang == "fa" else ", "

    def user(self, value: object) -> Markup:
        """A value someone wrote (a name, a summary, a note), isolated from the text
        around it: a Latin name in a Persian sentence (or the reverse) keeps its own
        direction, and its digits and full stops stay where its writer put them."""
        if value is None or value == "":
            return Markup("—")
        return Markup('<bdi dir="auto">{}</bdi>').format(escape(value))

    def users(self, values: list[str]) -> Markup:
        """Several values someone wrote, each isolated, joined with the reader's comma."""
        return Markup(self.comma).join(self.user(v) for v in values) if values else Markup("—")

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

    def moment(self, value: datetime.datetime | None, *, zone: bool = True) -> str:
        """A time of the log, on Tehran's clock (where the coordinators are): the day in
        the reader's calendar, then the time, then whose clock it is unless `zone` is
        False (a column whose header says it); the receipt's data keeps UTC."""
        if value is None:
            return "—"
        local = value.astimezone(TEHRAN)
        clock = self.digits(local.strftime("%H:%M:%S"))
        said = f" {self.t('tehran_time')}" if zone else ""
        return f"{self.date(local.date())}{self.comma}{clock}{said}"

    def event_type(self, name: str) -> str:
        """An event type in the reader's words; the contract's name in English."""
        key = f"event_{name}"
        return self.t(key) if key in LABELS else name

    def role(self, value: str | None) -> str:
        key = f"role_{value}"
        return self.t(key) if key in LABELS else str(value)

    def kind(self, code: str | None) -> str:
        """A partner's kind (`international_ngo`) in words."""
        if code is None:
            return "—"
        fa, en = _KINDS.get(code, (code, code))
        return fa if self.lang == "fa" else en

    def month(self, key: int) -> str:
        fa, en = month_labels(key, self.calendar)
        return fa if self.lang == "fa" else en

    def sector(self, code: str | None) -> str:
        if code is None:
            return "—"
        fa, en = _SECTORS.get(code, (code, code))
        return fa if self.lang == "fa" else en

    def join(self, items: list[str]) -> str:
        return self.comma.join(items)

    def sectors(self, codes: list[str]) -> str:
        return self.join([self.sector(code) for code in codes])

    def name(self, fa: str | None, en: str | None) -> str:
        """A pair of names: the reader's, the other when it is missing."""
        first, second = (fa, en) if self.lang == "fa" else (en, fa)
        return first or second or "—"
