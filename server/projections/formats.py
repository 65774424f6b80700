"""Reports as CSV (a header row, then the rows) and as HXL (the same with a hashtag row
under the header), with each report's columns and their HXL hashtags.

Lists become `; `-joined text, booleans `true`/`false`, nothing an empty cell. Every CSV
the server writes goes through `to_csv`, which keeps them safe to open in a spreadsheet:
a text cell that would begin with `=`, `+`, `-`, `@`, TAB or CR begins with `'` instead,
while the columns listed in NUMBERS stay numbers (a negative one included)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from server.projections.who_what_where import COLUMNS as WHO_WHAT_WHERE

Columns = Sequence[tuple[str, str]]

_REACHED: Columns = (
    ("deliveries", "#activity+num"),
    ("women", "#reached+f+adults"),
    ("men", "#reached+m+adults"),
    ("girls", "#reached+f+children"),
    ("boys", "#reached+m+children"),
    ("other", "#reached+other"),
    ("total", "#reached+total"),
)

_DELIVERY_GROUPS: Mapping[str, Columns] = {
    "partner": (("partner_id", "#org+impl+code"),),
    "site": (("site_id", "#loc+code"),),
    "sector": (("sector", "#sector+code"),),
    "month": (
        ("month", "#date+month"),
        ("month_label_fa", "#date+month+name+i_fa"),
        ("month_label_en", "#date+month+name+i_en"),
    ),
}

_FIGURES: Columns = (
    ("pledged", "#value+pledged"),
    ("committed", "#value+committed"),
    ("disbursed", "#value+disbursed"),
    ("outstanding", "#value+outstanding"),
    ("fulfilment_percent", "#indicator+fulfilment+pct"),
)

PLEDGES: Columns = (
    ("pledge_id", "#meta+id"),
    ("partner_id", "#org+funder+code"),
    ("status", "#status"),
    ("currency", "#currency"),
    *_FIGURES,
    ("disbursements", "#meta+disbursements+num"),
    ("sectors", "#sector+code"),
    ("site_id", "#loc+code"),
    ("period_start", "#date+start"),
    ("period_end", "#date+end"),
    ("committed_on", "#date+committed"),
    ("agreement_ref", "#meta+ref"),
    ("made_on", "#date+pledged"),
)

PLEDGES_BY_PARTNER: Columns = (
    ("partner_id", "#org+funder+code"),
    ("currency", "#currency"),
    ("status", "#status"),
    ("pledges", "#meta+pledges+num"),
    *_FIGURES,
)

PLEDGES_BY_MONTH: Columns = (
    *_DELIVERY_GROUPS["month"],
    ("currency", "#currency"),
    ("status", "#status"),
    ("pledges", "#meta+pledges+num"),
    ("pledged", "#value+pledged"),
    ("disbursements", "#meta+disbursements+num"),
    ("disbursed", "#value+disbursed"),
)

COMMITMENTS: Columns = (
    ("commitment_id", "#meta+id"),
    ("owner_partner_id", "#org+code"),
    ("status", "#status"),
    ("overdue", "#status+overdue"),
    ("days_overdue", "#meta+overdue+days"),
    ("due_on", "#date+due"),
    ("description_fa", "#description+i_fa"),
    ("description_en", "#description+i_en"),
    ("sector", "#sector+code"),
    ("site_id", "#loc+code"),
    ("meeting_id", "#meta+meeting"),
    ("percent", "#indicator+progress+pct"),
    ("progress_reports", "#meta+reports+num"),
    ("last_note", "#description+note"),
    ("closed_on", "#date+closed"),
)


#: The columns that hold numbers, in every report: counts, money (decimal strings) and
#: percentages. A cell's type comes from its column, never from what its text looks like:
#: a partner's name "-1" is text, and is escaped as text.
NUMBERS = frozenset(
    {
        "deliveries",
        "women",
        "men",
        "girls",
        "boys",
        "other",
        "total",
        "pledged",
        "committed",
        "disbursed",
        "outstanding",
        "fulfilment_percent",
        "pledges",
        "disbursements",
        "days_overdue",
        "percent",
        "progress_reports",
        # the dashboard's own tables (server/web/tables.py) and the progress report
        "previous_total",
        "change",
        "this_pledged",
        "this_disbursed",
        "last_pledged",
        "last_disbursed",
        "position",
        "planned",
        "reached",
        "reached_percent",
        "targets",
        "partners",
    }
)

#: What a spreadsheet reads as the start of a formula (OWASP's list: `=`, `+`, `-`, `@`,
#: and TAB and CR, which some strip before they look).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


PROGRESS_GROUPS: Mapping[str, Columns] = {
    "partner": (("partner_id", "#org+impl+code"),),
    "sector": (("sector", "#sector+code"),),
    "site": (("site_id", "#loc+code"),),
    "month": _DELIVERY_GROUPS["month"],
}

COMPLETENESS: Columns = (
    ("partner_id", "#org+impl+code"),
    ("partner_name_fa", "#org+impl+name+i_fa"),
    ("partner_name_en", "#org+impl+name+i_en"),
    ("month", "#date+month"),
    ("reported", "#status+reported"),
    ("deliveries", "#activity+num"),
    ("total", "#reached+total"),
    ("has_target", "#status+targeted"),
)


def progress_columns(group_by: Iterable[str]) -> Columns:
    chosen = set(group_by)
    columns = [c for group, cs in PROGRESS_GROUPS.items() if group in chosen for c in cs]
    return (
        *columns,
        ("planned", "#targeted+total"),
        ("reached", "#reached+total"),
        ("reached_percent", "#indicator+reached+pct"),
    )


def who_what_where_columns() -> Columns:
    return WHO_WHAT_WHERE


def delivery_columns(group_by: Iterable[str]) -> Columns:
    chosen = set(group_by)
    columns = [c for group, cs in _DELIVERY_GROUPS.items() if group in chosen for c in cs]
    return (*columns, *_REACHED)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value)
    return str(value)


def text_cell(value: Any) -> str:
    """A text cell that no spreadsheet runs as a formula."""
    text = _text(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def number_cell(value: Any) -> str:
    """A number column's cell, as the number it is; a value that is not one (which the
    projections never write) is treated as text rather than trusted."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    text = _text(value)
    return text if _NUMBER.match(text) else text_cell(text)


def cells(values: Mapping[str, Any], columns: Columns) -> list[str]:
    return [
        number_cell(values.get(name)) if name in NUMBERS else text_cell(values.get(name))
        for name, _ in columns
    ]


def to_csv(
    rows: Iterable[Mapping[str, Any] | msgspec.Struct], columns: Columns, *, hxl: bool = False
) -> str:
    """CSV text with a header row, and the HXL hashtag row under it when `hxl`. Rows are
    dicts or Structs (the deliveries report's)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _ in columns])
    if hxl:
        writer.writerow([tag for _, tag in columns])
    for row in rows:
        values = row if isinstance(row, Mapping) else msgspec.structs.asdict(row)
        writer.writerow(cells(values, columns))
    return out.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_value(name: str, value: Any) -> Any:
    """A number column's cell as a number (int or exact decimal), anything else as the
    same escaped text a CSV cell carries: a workbook runs a formula as readily as a CSV."""
    if name in NUMBERS and value is not None and not isinstance(value, bool):
        if isinstance(value, int | Decimal):
            return value
        text = _text(value)
        if _NUMBER.match(text):
            return Decimal(text) if "." in text else int(text)
    return text_cell(value) if value is not None else None


def to_xlsx(
    rows: Iterable[Mapping[str, Any] | msgspec.Struct], columns: Columns, *, sheet: str
) -> bytes:
    """An XLSX workbook of one sheet: the header row, the HXL hashtag row (as the import
    templates have it, so a file goes back into humanitarian tooling), then the rows."""
    from openpyxl import Workbook  # imported here: only a download needs it

    book = Workbook(write_only=True)
    page = book.create_sheet(title=sheet[:31])
    page.append([name for name, _ in columns])
    page.append([tag for _, tag in columns])
    for row in rows:
        values = row if isinstance(row, Mapping) else msgspec.structs.asdict(row)
        page.append([_xlsx_value(name, values.get(name)) for name, _ in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
