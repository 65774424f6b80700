"""What one spreadsheet cell means: digits in any script, thousands separators, Solar
Hijri and Gregorian dates, whole counts, money, codes by name. Pure functions.

A cell that cannot be read raises CellError with the rule it breaks; the row reader
turns that into a row error in both languages."""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from decimal import Decimal

import jdatetime  # type: ignore[import-untyped]

# Persian (U+06F0..) and Arabic-Indic (U+0660..) digits, the Arabic decimal separator,
# and the Arabic/Persian letters keyboards mix up, all to one spelling
DIGITS = {ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")} | {
    ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")
}
_LETTERS = {ord("ي"): "ی", ord("ى"): "ی", ord("ك"): "ک", 0x066B: "."}
_TRANSLATE = DIGITS | _LETTERS
# thousands separators people type: comma, Arabic thousands sign, Persian comma,
# apostrophe, (thin / no-break) spaces
_GROUPING = ",٬،' \u00a0\u202f\u2009"
_GROUPED = re.compile(r"^[0-9]{1,3}([" + re.escape(_GROUPING) + r"][0-9]{3})+(\.[0-9]+)?$")
_PLAIN_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_DATE = re.compile(r"^([0-9]{4})[/\-]([0-9]{1,2})[/\-]([0-9]{1,2})$")
JALALI_YEARS = range(1300, 1500)
GREGORIAN_YEARS = range(1900, 2200)

Cell = (
    str
    | int
    | float
    | bool
    | datetime.date
    | datetime.datetime
    | datetime.time
    | datetime.timedelta
    | None
)


class CellError(Exception):
    """A cell that does not hold what its column asks for; `rule` names why."""

    def __init__(self, rule: str, detail: str = "") -> None:
        super().__init__(detail or rule)
        self.rule = rule
        self.detail = detail


@functools.lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """Latin digits, one spelling of yeh and kaf, single spaces, no edge spaces."""
    text = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    return " ".join(text.split())


@functools.lru_cache(maxsize=4096)
def key(text: str) -> str:
    """How labels and codes are compared: normalised, case-folded, ZWNJ as a space."""
    return normalise(text.replace("\u200c", " ")).casefold()


def is_blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Cell) -> str:
    """A cell as text: a whole number typed into a text column reads without `.0`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return normalise(str(value))


def _number_text(value: Cell) -> str:
    if isinstance(value, bool | datetime.date | datetime.time | datetime.timedelta):
        raise CellError("not-a-number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    raw = normalise(str(value))
    if _GROUPED.match(raw):
        raw = "".join(c for c in raw if c not in _GROUPING)
    if not _PLAIN_NUMBER.match(raw):
        raise CellError("not-a-number", raw)
    return raw


def count(value: Cell) -> int:
    """A non-negative whole number: `12`, `۱۲`, `1,200`, `۱٬۲۰۰`, or 12.0 from a sheet."""
    raw = _number_text(value)
    number = Decimal(raw)
    if number != number.to_integral_value():
        raise CellError("not-a-whole-number", raw)
    return int(number)


def money(value: Cell) -> str:
    """A decimal amount as the log keeps it: no grouping, no exponent, no sign."""
    raw = _number_text(value)
    whole, dot, fraction = raw.partition(".")
    return (whole.lstrip("0") or "0") + (dot + fraction if fraction else "")


def date(value: Cell) -> datetime.date:
    """A date cell: a sheet's own date, or text `YYYY/MM/DD` (or `-`) in the Solar Hijri
    calendar (years 1300-1499) or the Gregorian one (1900-2199), in any digits. Any
    other text (`01/08/1405`, `1 Aban 1405`) is refused rather than guessed."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        raise CellError("date-format", text(value))
    return _text_date(value)


@functools.lru_cache(maxsize=4096)
def _text_date(value: str) -> datetime.date:
    """A month's file repeats a few dates thousands of times: each is read once."""
    raw = normalise(value)
    found = _DATE.match(raw)
    if not found:
        raise CellError("date-format", raw)
    year, month, day = (int(part) for part in found.groups())
    try:
        if year in JALALI_YEARS:
            gregorian: datetime.date = jdatetime.date(year, month, day).togregorian()
            return gregorian
        if year in GREGORIAN_YEARS:
            return datetime.date(year, month, day)
    except ValueError:
        raise CellError("no-such-date", raw) from None
    raise CellError("date-format", raw)


def yes(value: Cell) -> bool:
    """A yes/no cell; only yes is meaningful where it is asked (free_of_charge)."""
    if isinstance(value, bool):
        return value
    return key(text(value)) in {"true", "yes", "y", "1", "بله", "آری", "بلی", "درست"}
