"""Pledged and disbursed in each month, per currency and status: what the pledges report
says with `view=months` and what the overview compares this month against last.

A pledge counts in the month of the day it was recorded (Asia/Tehran), at its amount as
last amended; a disbursement in the month of its own `disbursed_on`. Both are grouped
by day in SQL and the days folded into months of the asked calendar here (a day has
one month in each). Status is the pledge's as it stands now, as in the other views:
committed, uncommitted and cancelled are reported apart, never added together."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from server.projections.model import Conn
from server.projections.periods import Period, month_key, month_values
from server.projections.pledges import STATUS_SQL, STATUSES, money

#: The columns of a month row, in order.
COLUMNS = (
    "month",
    "month_label_fa",
    "month_label_en",
    "currency",
    "status",
    "pledges",
    "pledged",
    "disbursements",
    "disbursed",
)


def _where(
    column: str, period: Period, partner: str | None, partner_column: str
) -> tuple[str, list[Any]]:
    conditions, args = [], []
    for sql, value in (
        (f"{column} >= ${{}}", period.start),
        (f"{column} <= ${{}}", period.end),
        (f"{partner_column} = ${{}}", partner),
    ):
        if value is not None:
            args.append(value)
            conditions.append(sql.format(len(args)))
    return (" WHERE " + " AND ".join(conditions)) if conditions else "", args


async def _pledged_by_day(
    conn: Conn, names: Mapping[str, str], period: Period, partner: str | None
) -> list[Any]:
    condition, args = _where("made_on", period, partner, "partner_id")
    return await conn.fetch(
        f"SELECT made_on AS day, currency, {STATUS_SQL} AS status,"
        " count(*) AS n, sum(amount) AS amount"
        f" FROM {names['pledges']}{condition} GROUP BY 1, 2, 3",
        *args,
    )


async def _disbursed_by_day(
    conn: Conn, names: Mapping[str, str], period: Period, partner: str | None
) -> list[Any]:
    condition, args = _where("d.disbursed_on", period, partner, "p.partner_id")
    return await conn.fetch(
        f"SELECT d.disbursed_on AS day, p.currency, {STATUS_SQL} AS status,"
        " count(*) AS n, sum(d.amount) AS amount"
        f" FROM {names['disbursements']} d JOIN {names['pledges']} p USING (pledge_id)"
        f"{condition} GROUP BY 1, 2, 3",
        *args,
    )


@dataclass(slots=True)
class _Sums:
    """A month's figures for one currency and status, as they are added up."""

    pledges: int = 0
    pledged: Decimal | None = None
    disbursements: int = 0
    disbursed: Decimal | None = None


def _add(total: Decimal | None, amount: Decimal) -> Decimal:
    return amount if total is None else total + amount


def _zero_like(value: Decimal | None, other: Decimal | None) -> Decimal:
    # a zero at the scale of the figure beside it: "0.00" next to "25000.00"
    if value is not None:
        return value
    return other * 0 if other is not None else Decimal(0)


async def month_rows(
    conn: Conn, names: Mapping[str, str], period: Period, partner: str | None
) -> list[dict[str, Any]]:
    """One row per month, currency and status with something pledged or disbursed in
    that month, in month order; months are the period's calendar's."""
    pledged = await _pledged_by_day(conn, names, period, partner)
    disbursed = await _disbursed_by_day(conn, names, period, partner)
    return shape_month_rows(pledged, disbursed, period)


def shape_month_rows(
    pledged: Sequence[Mapping[str, Any]],
    disbursed: Sequence[Mapping[str, Any]],
    period: Period,
) -> list[dict[str, Any]]:
    """Sums per day, currency and status (`day`, `currency`, `status`, `n`, `amount`) of
    what was pledged and what was disbursed -> month rows; shared by the SQL report and
    its in-memory twin."""
    sums: dict[tuple[int, str, str], _Sums] = {}

    def at(day: datetime.date, currency: str, status: str) -> _Sums:
        key = (month_key(day, period.calendar), currency, status)
        found = sums.get(key)
        if found is None:
            found = sums[key] = _Sums()
        return found

    for r in pledged:
        s = at(r["day"], r["currency"], r["status"])
        s.pledges += r["n"]
        s.pledged = _add(s.pledged, r["amount"])
    for r in disbursed:
        s = at(r["day"], r["currency"], r["status"])
        s.disbursements += r["n"]
        s.disbursed = _add(s.disbursed, r["amount"])
    order = {status: i for i, status in enumerate(STATUSES)}
    rows = []
    for (month, currency, status), s in sorted(
        sums.items(), key=lambda item: (item[0][0], item[0][1], order[item[0][2]])
    ):
        rows.append(
            dict(
                zip(
                    COLUMNS,
                    (
                        *month_values(month, period.calendar),
                        currency,
                        status,
                        s.pledges,
                        money(_zero_like(s.pledged, s.disbursed)),
                        s.disbursements,
                        money(_zero_like(s.disbursed, s.pledged)),
                    ),
                    strict=True,
                )
            )
        )
    return rows


def month_totals(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per status, per currency: the month rows added up over the period."""
    sums: dict[tuple[str, str], _Sums] = {}
    for row in rows:
        s = sums.setdefault((row["status"], row["currency"]), _Sums())
        # a month's zero only stands beside the other figure: it adds nothing, not
        # even its scale ("50000" plus a month of disbursements only stays "50000")
        if row["pledges"]:
            s.pledges += row["pledges"]
            s.pledged = _add(s.pledged, Decimal(row["pledged"]))
        if row["disbursements"]:
            s.disbursements += row["disbursements"]
            s.disbursed = _add(s.disbursed, Decimal(row["disbursed"]))
    result: dict[str, list[dict[str, Any]]] = {status: [] for status in STATUSES}
    for (status, currency), s in sorted(sums.items()):
        result[status].append(
            {
                "currency": currency,
                "pledges": s.pledges,
                "pledged": money(_zero_like(s.pledged, s.disbursed)),
                "disbursements": s.disbursements,
                "disbursed": money(_zero_like(s.disbursed, s.pledged)),
            }
        )
    return result
