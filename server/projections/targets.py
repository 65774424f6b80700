"""What partners plan to reach: every target as last set (TargetSet), and the progress
report that sets the plans against the beneficiaries delivered (planned vs reached), and
reporting completeness (which active partners reported nothing in a month).

A target's planned contacts are spread over its period by days: a target of 580 for
January to June plans about 96 for March. A report's period (or month, when grouped by
month) takes the share of each target whose days it covers."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from schemas import events as ev
from schemas.common import beneficiary_totals
from server.projections.deliveries import Filters, argument, deliveries_report, matching
from server.projections.model import Conn, Event, Projection, State, Table
from server.projections.periods import (
    Period,
    first_day,
    format_month,
    last_day,
    month_key,
    month_values,
    next_month,
)


class TargetRow(NamedTuple):
    target_id: uuid.UUID
    partner_id: str
    sector: str
    site_id: str | None
    activity: str | None
    period_start: datetime.date
    period_end: datetime.date
    women: int
    men: int
    girls: int
    boys: int
    other: int
    planned: int
    reason: str | None
    replacements: int
    set_position: int


def _set(state: State, event: Event) -> None:
    d: ev.TargetSet = event.data
    rows = state["targets"]
    before = rows.get(d.target_id)
    t = beneficiary_totals(d.beneficiaries)
    rows[d.target_id] = TargetRow(
        d.target_id,
        d.partner_id,
        d.sector,
        d.site_id,
        d.activity,
        d.period_start,
        d.period_end,
        t.women,
        t.men,
        t.girls,
        t.boys,
        t.other,
        t.total,
        d.reason,
        0 if before is None else before.replacements + 1,
        event.position,
    )


TARGETS = Projection(
    name="targets",
    description="partners' targets (planned beneficiary contacts), as last set",
    tables=(
        Table(
            "targets",
            TargetRow,
            {
                "target_id": "uuid",
                "partner_id": "text",
                "sector": "text",
                "site_id": "text",
                "activity": "text",
                "period_start": "date",
                "period_end": "date",
                "women": "bigint",
                "men": "bigint",
                "girls": "bigint",
                "boys": "bigint",
                "other": "bigint",
                "planned": "bigint",
                "reason": "text",
                "replacements": "integer",
                "set_position": "bigint",
            },
        ),
    ),
    handlers={"TargetSet": _set},
    reads={"TargetSet": ("targets", "target_id")},
)


# --- the progress report ----------------------------------------------------------

GROUPS = ("partner", "sector", "site", "month")
_KEYS = {"partner": "partner_id", "sector": "sector", "site": "site_id", "month": "month"}


def _months(start: datetime.date, end: datetime.date, period: Period) -> list[int]:
    """The months (in the period's calendar) that start..end touches."""
    keys = [month_key(start, period.calendar)]
    last = month_key(end, period.calendar)
    while keys[-1] < last:
        keys.append(next_month(keys[-1]))
    return keys


def _share(target: Any, start: datetime.date, end: datetime.date) -> Decimal:
    """The part of a target's planned contacts that falls on start..end (by days)."""
    first, last = max(start, target["period_start"]), min(end, target["period_end"])
    if last < first:
        return Decimal(0)
    days = (target["period_end"] - target["period_start"]).days + 1
    share: Decimal = Decimal(target["planned"]) * ((last - first).days + 1) / days
    return share


def _percent(reached: int, planned: int) -> str | None:
    if planned <= 0:
        return None
    value = Decimal(reached) * 100 / planned
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


async def progress_rows(
    conn: Conn, names: Mapping[str, str], group_by: Sequence[str], filters: Filters
) -> list[dict[str, Any]]:
    """Planned and reached beneficiary contacts, and % reached, grouped by any of
    partner, sector, site and month over the period (every month: all time)."""
    period = filters.period
    start = period.start or datetime.date.min
    end = period.end or datetime.date.max
    conditions = ["period_end >= $1", "period_start <= $2"]
    args: list[Any] = [start, end]
    for column, value in (
        ("partner_id", filters.partner),
        ("site_id", filters.site),
        ("sector", filters.sector),
    ):
        if value is not None:
            args.append(argument(value))
            conditions.append(matching(column, value, len(args)))
    targets = await conn.fetch(
        f"SELECT * FROM {names['targets']} WHERE {' AND '.join(conditions)}", *args
    )
    delivery_groups = [g for g in ("partner", "site", "sector", "month") if g in group_by]
    delivered = await deliveries_report(conn, names, delivery_groups, filters)
    return shape_progress(targets, delivered, group_by, filters)


def shape_progress(
    targets: Sequence[Mapping[str, Any]],
    delivered: Sequence[Mapping[str, Any]],
    group_by: Sequence[str],
    filters: Filters,
) -> list[dict[str, Any]]:
    """The targets over the period and the deliveries report grouped alike -> planned,
    reached and % rows; shared by the SQL report and its in-memory twin."""
    period = filters.period
    start = period.start or datetime.date.min
    end = period.end or datetime.date.max
    keys = [_KEYS[g] for g in GROUPS if g in group_by]
    planned: dict[tuple[Any, ...], Decimal] = {}
    for target in targets:
        spans: list[tuple[str | None, datetime.date, datetime.date]]
        if "month" in group_by:
            spans = [
                (
                    format_month(m),
                    max(start, first_day(m, period.calendar)),
                    min(end, last_day(m, period.calendar)),
                )
                for m in _months(
                    max(start, target["period_start"]), min(end, target["period_end"]), period
                )
            ]
        else:
            spans = [(None, start, end)]
        for month, first, last in spans:
            values = {**dict(target), "month": month}
            key = tuple(values[k] for k in keys)
            planned[key] = planned.get(key, Decimal(0)) + _share(target, first, last)
    reached: dict[tuple[Any, ...], int] = {}
    for found in delivered:
        key = tuple(found[k] for k in keys)
        reached[key] = reached.get(key, 0) + found["total"]
    rows = []
    for key in sorted({*planned, *reached}, key=lambda k: tuple("" if v is None else v for v in k)):
        whole = int(planned.get(key, Decimal(0)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        got = reached.get(key, 0)
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        if "month" in row:
            number = int(row["month"].replace("-", ""))
            _, row["month_label_fa"], row["month_label_en"] = month_values(number, period.calendar)
        row.update(planned=whole, reached=got, reached_percent=_percent(got, whole))
        rows.append(row)
    return rows


async def completeness_rows(
    conn: Conn, names: Mapping[str, str], month: int, period: Period
) -> list[dict[str, Any]]:
    """Every active (not suspended) partner and whether it reported any delivery that
    counts in `month`: those that did not are the ones to chase."""
    one = Filters(period=Period(calendar=period.calendar, first=month, last=month))
    delivered = await deliveries_report(conn, names, ("partner",), one)
    partners = await conn.fetch(
        f"SELECT partner_id, name_fa, name_en FROM {names['partners']}"
        " WHERE NOT suspended ORDER BY partner_id"
    )
    planned = {
        r["partner_id"]
        for r in await conn.fetch(
            f"SELECT DISTINCT partner_id FROM {names['targets']}"
            " WHERE period_start <= $2 AND period_end >= $1",
            first_day(month, period.calendar),
            last_day(month, period.calendar),
        )
    }
    return shape_completeness(month, delivered, partners, planned)


def shape_completeness(
    month: int,
    delivered: Sequence[Mapping[str, Any]],
    partners: Sequence[Mapping[str, Any]],
    planned: set[str],
) -> list[dict[str, Any]]:
    """The month's deliveries per partner, the active partners in order and those with a
    target over the month -> completeness rows; shared by the SQL report and its twin."""
    counted = {r["partner_id"]: r for r in delivered}
    return [
        {
            "partner_id": p["partner_id"],
            "partner_name_fa": p["name_fa"],
            "partner_name_en": p["name_en"],
            "month": format_month(month),
            "reported": p["partner_id"] in counted,
            "deliveries": counted[p["partner_id"]]["deliveries"]
            if p["partner_id"] in counted
            else 0,
            "total": counted[p["partner_id"]]["total"] if p["partner_id"] in counted else 0,
            "has_target": p["partner_id"] in planned,
        }
        for p in partners
    ]
