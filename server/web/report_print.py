"""What the printed partner report needs beyond the record: the issuing office (the
directorate, from the directory), the period in words in the reader's calendar, the
partner's country by name, and the deliveries month by month with a subtotal each.

The page is `partner.html`; `static/print.css` makes it an A4 document with page
numbers; the attestation slot is for issue 20's signed statement."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from babel import Locale as Cldr

from server.projections.deliveries import COUNT_COLUMNS
from server.projections.model import Conn
from server.projections.periods import Period
from server.web.i18n import Locale

_TERRITORIES = {lang: Cldr(lang).territories for lang in ("fa", "en")}


async def issuing_office(conn: Conn, names: Mapping[str, str]) -> tuple[str, str] | None:
    """The directorate's (Persian, English) name: the registered partner of kind
    `directorate` (the first by id, should there be several), or None."""
    row = await conn.fetchrow(
        f"SELECT name_fa, name_en FROM {names['partners']}"
        " WHERE kind = 'directorate' ORDER BY partner_id LIMIT 1"
    )
    return None if row is None else (row["name_fa"], row["name_en"])


def country_name(ui: Locale, code: str | None) -> str | None:
    """An ISO 3166-1 code (`NO`) as the country's name in the reader's language
    (CLDR's: «نروژ», "Norway"); the code itself when CLDR has no name for it."""
    if code is None:
        return None
    name = _TERRITORIES[ui.lang].get(code.upper())
    return name if isinstance(name, str) else code


def period_text(ui: Locale, period: Period, today: datetime.date) -> str:
    """The period in words, in the page's calendar: «فروردین ۱۴۰۵ تا آبان ۱۴۰۵», "from the
    start to 6 December 2026" when it has no first month, "to today" when no last."""
    first = ui.month(period.first) if period.first is not None else None
    last = ui.month(period.last) if period.last is not None else ui.date(today)
    if first is None:
        return f"{ui.t('period_all')} {last}"
    if period.first == period.last:
        return first
    return f"{first} {ui.t('period_to')} {last}"


def by_month(
    rows: list[dict[str, Any]],
) -> list[tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]]:
    """The deliveries grouped by month, oldest first, each month's rows by site and
    sector, and the month's subtotal: (month labels, rows, subtotal)."""
    months: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (r["month"], r["site_id"], r["sector"])):
        months.setdefault(row["month"], []).append(row)
    grouped = []
    for lines in months.values():
        subtotal = {c: sum(r[c] for r in lines) for c in COUNT_COLUMNS}
        label = {k: lines[0][k] for k in ("month", "month_label_fa", "month_label_en")}
        grouped.append((label, lines, subtotal))
    return grouped
