"""Who does what where (3W/4W): partner x sector x site, with the activities, the
contacts reached and the months covered, over the deliveries sums and the directory.

Its columns carry HXL hashtags so the CSV drops into humanitarian tooling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.codes import SECTORS
from server.projections.deliveries import COUNT_COLUMNS, SUMS, Filters, counts, where
from server.projections.model import Conn
from server.projections.periods import Period, first_day, last_day

_SECTOR_LABELS = {code.code: (code.label_fa, code.label_en) for code in SECTORS}

#: (column, HXL hashtag) in report order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("partner_id", "#org+impl+code"),
    ("partner_name_en", "#org+impl+name+i_en"),
    ("partner_name_fa", "#org+impl+name+i_fa"),
    ("sector", "#sector+code"),
    ("sector_label_en", "#sector+name+i_en"),
    ("sector_label_fa", "#sector+name+i_fa"),
    ("province", "#adm1+name"),
    ("county", "#adm2+name"),
    ("site_id", "#loc+code"),
    ("site_name_en", "#loc+name+i_en"),
    ("site_name_fa", "#loc+name+i_fa"),
    ("activities", "#activity+name"),
    ("deliveries", "#activity+num"),
    ("date_start", "#date+start"),
    ("date_end", "#date+end"),
    ("women", "#reached+f+adults"),
    ("men", "#reached+m+adults"),
    ("girls", "#reached+f+children"),
    ("boys", "#reached+m+children"),
    ("other", "#reached+other"),
    ("total", "#reached+total"),
)


async def who_what_where(
    conn: Conn, names: Mapping[str, str], filters: Filters
) -> list[dict[str, Any]]:
    """One row per partner, sector and site that reached anyone in the period.

    `date_start` and `date_end` bound the months the row's deliveries count in
    (a delivery counts in the month its period ends), in the report's calendar."""
    period = filters.period
    month = f"c.{period.column}"
    condition, args = where(filters)
    sums = ", ".join(f"sum({c})::bigint AS {c}" for c in COUNT_COLUMNS)
    # sums per activity first (hashed), then per partner, sector and site, and only
    # then the names: a few hundred rows to join, not every cell
    records = await conn.fetch(
        f"""
        WITH by_activity AS (
            SELECT c.partner_id, c.sector, c.site_id, c.activity,
                   min({month}) AS first_month, max({month}) AS last_month, {SUMS}
            FROM {names["delivery_cells"]} c
            {condition}
            GROUP BY c.partner_id, c.sector, c.site_id, c.activity
        ), grouped AS (
            SELECT partner_id, sector, site_id,
                   array_agg(activity ORDER BY activity) AS activities,
                   min(first_month) AS first_month, max(last_month) AS last_month, {sums}
            FROM by_activity
            GROUP BY partner_id, sector, site_id
        )
        SELECT g.*, p.name_en AS partner_name_en, p.name_fa AS partner_name_fa,
               s.name_en AS site_name_en, s.name_fa AS site_name_fa, s.province, s.county
        FROM grouped g
        LEFT JOIN {names["partners"]} p ON p.partner_id = g.partner_id
        LEFT JOIN {names["sites"]} s ON s.site_id = g.site_id
        ORDER BY g.partner_id, g.sector, g.site_id
        """,
        *args,
    )
    return [shape_row(r, period) for r in records]


def shape_row(r: Mapping[str, Any], period: Period) -> dict[str, Any]:
    """One grouped record (sums, activities, first and last month, names) -> a 3W row;
    shared by the SQL report and its in-memory twin."""
    sector_fa, sector_en = _SECTOR_LABELS.get(r["sector"], (r["sector"], r["sector"]))
    return {
        "partner_id": r["partner_id"],
        "partner_name_en": r["partner_name_en"],
        "partner_name_fa": r["partner_name_fa"],
        "sector": r["sector"],
        "sector_label_en": sector_en,
        "sector_label_fa": sector_fa,
        "province": r["province"],
        "county": r["county"],
        "site_id": r["site_id"],
        "site_name_en": r["site_name_en"],
        "site_name_fa": r["site_name_fa"],
        "activities": list(r["activities"]),
        "date_start": first_day(r["first_month"], period.calendar).isoformat(),
        "date_end": last_day(r["last_month"], period.calendar).isoformat(),
        **counts(r),
    }
