"""How many were reached, by whom, where, in what, when: every delivery as it now
stands (corrections applied, retractions dropped) and its sums per partner, site,
sector, activity and month, which the deliveries and 3W reports group further.

A delivery counts in the month its period ends, in each calendar; the sums table
keys both months, so either calendar's report is one GROUP BY over small rows."""

from __future__ import annotations

import datetime
import functools
import sys
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import msgspec
from msgspec import UNSET

from schemas import events as ev
from schemas.common import derive_short_form
from server.projections.model import Conn, Event, Projection, State, Table, Totals
from server.projections.periods import (
    MONTH_COLUMNS,
    Calendar,
    Period,
    month_keys,
    month_values,
)

_intern = sys.intern


class DeliveryRow(NamedTuple):
    delivery_id: uuid.UUID
    partner_id: str
    site_id: str
    sector: str
    activity: str
    period_start: datetime.date
    period_end: datetime.date
    women: int
    men: int
    girls: int
    boys: int
    other: int
    total: int
    population_group: str
    nationality: str
    pledge_id: uuid.UUID | None
    g_month: int
    j_month: int
    delivered_position: int
    corrected_position: int | None


def _counts(beneficiaries: Any) -> tuple[int, int, int, int, int, int]:
    """(women, men, girls, boys, other, total): `beneficiary_totals`, with the short
    form (most deliveries) read straight off the Struct."""
    b = beneficiaries
    if b.cells is UNSET:  # then all four are set (the Struct checks it)
        women, men, girls, boys = b.women, b.men, b.girls, b.boys
        return women, men, girls, boys, 0, women + men + girls + boys
    t = derive_short_form(b.cells)
    return t.women, t.men, t.girls, t.boys, t.other, t.total


_COUNTS = ("women", "men", "girls", "boys", "other", "total")


def _delivered(state: State, event: Event) -> None:
    d: ev.ServiceDelivered = event.data
    g_month, j_month = month_keys(d.period_end)
    state["deliveries"][d.delivery_id] = DeliveryRow(
        d.delivery_id,
        _intern(d.partner_id),
        _intern(d.site_id),
        d.sector,
        _intern(d.activity),
        d.period_start,
        d.period_end,
        *_counts(d.beneficiaries),
        d.population_group,
        d.nationality,
        d.pledge_id,
        g_month,
        j_month,
        event.position,
        None,
    )


# fields a correction may carry that the read model keeps (notes are not reported)
_KEPT: tuple[str, ...] = ("site_id", "sector", "activity", "period_start", "period_end")
_KEPT += ("population_group", "nationality", "pledge_id")


def _corrected(state: State, event: Event) -> None:
    d: ev.DeliveryCorrected = event.data
    rows = state["deliveries"]
    row = rows.get(d.delivery_id)
    if row is None:
        return
    # only the fields present in the event change; pledge_id present as null clears it
    changes: dict[str, Any] = {
        name: getattr(d, name) for name in _KEPT if getattr(d, name) is not UNSET
    }
    if d.beneficiaries is not UNSET:
        changes.update(zip(_COUNTS, _counts(d.beneficiaries), strict=True))
    if "period_end" in changes:
        changes["g_month"], changes["j_month"] = month_keys(changes["period_end"])
    rows[d.delivery_id] = row._replace(corrected_position=event.position, **changes)


def _retracted(state: State, event: Event) -> None:
    state["deliveries"].pop(event.data.delivery_id, None)


COUNT_COLUMNS = ("deliveries", *_COUNTS)

#: The totals per partner, site, sector and month of each calendar.
MONTH_TOTALS: dict[Calendar, str] = {
    "gregorian": "delivery_months_g",
    "jalali": "delivery_months_j",
}

DELIVERIES = Projection(
    name="deliveries",
    description="deliveries as corrected, and their sums per partner, site, sector, month",
    tables=(
        Table(
            "deliveries",
            DeliveryRow,
            {
                "delivery_id": "uuid",
                "partner_id": "text",
                "site_id": "text",
                "sector": "text",
                "activity": "text",
                "period_start": "date",
                "period_end": "date",
                "women": "bigint",
                "men": "bigint",
                "girls": "bigint",
                "boys": "bigint",
                "other": "bigint",
                "total": "bigint",
                "population_group": "text",
                "nationality": "text",
                "pledge_id": "uuid",
                "g_month": "integer",
                "j_month": "integer",
                "delivered_position": "bigint",
                "corrected_position": "bigint",
            },
        ),
    ),
    totals=(
        Totals(
            "delivery_cells",
            source="deliveries",
            keys=("partner_id", "site_id", "sector", "activity", "g_month", "j_month"),
            count="deliveries",
            sums=_COUNTS,
        ),
        # the same sums without activity, one table per calendar: the deliveries
        # report reads these rows as they are (half the cells, no aggregation when
        # grouped by all four; 8,604 rows at 1M events)
        Totals(
            MONTH_TOTALS["gregorian"],
            source="deliveries",
            keys=("partner_id", "site_id", "sector", "g_month"),
            count="deliveries",
            sums=_COUNTS,
            rolls_up="delivery_cells",
        ),
        Totals(
            MONTH_TOTALS["jalali"],
            source="deliveries",
            keys=("partner_id", "site_id", "sector", "j_month"),
            count="deliveries",
            sums=_COUNTS,
            rolls_up="delivery_cells",
        ),
    ),
    handlers={
        "ServiceDelivered": _delivered,
        "DeliveryCorrected": _corrected,
        "DeliveryRetracted": _retracted,
    },
    reads={
        "ServiceDelivered": ("deliveries", "delivery_id"),
        "DeliveryCorrected": ("deliveries", "delivery_id"),
        "DeliveryRetracted": ("deliveries", "delivery_id"),
    },
)


# --- the deliveries report --------------------------------------------------------

GROUPS = ("partner", "site", "sector", "month")
_GROUP_COLUMNS = {"partner": "partner_id", "site": "site_id", "sector": "sector"}
# Summed as float8, not bigint: sum(bigint) returns numeric, and converting thousands of
# groups' numeric sums back costs a quarter of the largest report's query time. Exact:
# every partial sum of whole numbers below 2**53 is a float8 (far beyond any count).
SUMS = ", ".join(f"coalesce(sum({c}::float8), 0)::bigint AS {c}" for c in COUNT_COLUMNS)


Choice = str | tuple[str, ...] | None


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    """Which cells a report reads: a period and, optionally, a partner, site, sector, or
    several of each (a tuple: any of them, as the dashboard's shareable views ask)."""

    period: Period = Period()
    partner: Choice = None
    site: Choice = None
    sector: Choice = None


def matching(column: str, value: Choice, number: int) -> str:
    """The condition that `column` is the chosen value (or any of the chosen values)."""
    return (
        f"{column} = ANY(${number}::text[])"
        if isinstance(value, tuple)
        else f"{column} = ${number}"
    )


def argument(value: str | tuple[str, ...]) -> str | list[str]:
    return list(value) if isinstance(value, tuple) else value


def where(filters: Filters, alias: str = "c", first: int = 1) -> tuple[str, list[Any]]:
    """SQL conditions on the cells for these filters, and their arguments."""
    conditions: list[str] = []
    args: list[Any] = []
    month = f"{alias}.{filters.period.column}"
    for sql, value in (
        (f"{month} >= ${{}}", filters.period.first),
        (f"{month} <= ${{}}", filters.period.last),
    ):
        if value is not None:
            args.append(value)
            conditions.append(sql.format(first + len(args) - 1))
    for column, choice in (
        ("partner_id", filters.partner),
        ("site_id", filters.site),
        ("sector", filters.sector),
    ):
        if choice is not None:
            args.append(argument(choice))
            conditions.append(matching(f"{alias}.{column}", choice, first + len(args) - 1))
    return (" WHERE " + " AND ".join(conditions)) if conditions else "", args


def counts(record: Any) -> dict[str, int]:
    return {c: record[c] for c in COUNT_COLUMNS}


@functools.cache
def row_type(columns: tuple[str, ...]) -> type[msgspec.Struct]:
    """The row of a deliveries report with these columns, in this order. A report may
    have thousands of rows: a Struct is built several times faster than a dict and
    encodes to the same JSON object. It holds only strings and integers, so the cyclic
    garbage collector need not track it (`gc=False`: about half the cost to build)."""
    return msgspec.defstruct("DeliveriesRow", columns, frozen=True, gc=False)


async def deliveries_rows(
    conn: Conn, names: Mapping[str, str], group_by: Sequence[str], filters: Filters
) -> list[msgspec.Struct]:
    """Beneficiary contacts grouped by any of partner, site, sector and month, as
    `row_type` Structs (what the API serves)."""
    period = filters.period
    columns = group_columns(group_by, period)
    condition, args = where(filters)
    listed = ", ".join(f"c.{c}" for c in columns)
    order = f" ORDER BY {listed}" if columns else ""
    table = names[MONTH_TOTALS[period.calendar]]
    if len(columns) == len(GROUPS):
        # grouped by every key of the month totals: their rows are the answer
        sums = ", ".join(f"c.{c}" for c in COUNT_COLUMNS)
        sql = f"SELECT {listed}, {sums} FROM {table} c{condition}{order}"
    else:
        group = f" GROUP BY {listed}" if columns else ""
        select = f"{listed}, " if columns else ""
        sql = f"SELECT {select}{SUMS} FROM {table} c{condition}{group}{order}"
    return shape_rows(await conn.fetch(sql, *args), columns, period)


def group_columns(group_by: Sequence[str], period: Period) -> list[str]:
    """The read-model columns a deliveries report groups by, in report order."""
    return [
        period.column if group == "month" else _GROUP_COLUMNS[group]
        for group in GROUPS
        if group in group_by
    ]


def shape_rows(
    records: Sequence[Sequence[Any]], columns: Sequence[str], period: Period
) -> list[msgspec.Struct]:
    """Grouped records (the group columns, then COUNT_COLUMNS) -> the report's rows, the
    month key spelled out; shared by the SQL report and its in-memory twin."""
    if period.column not in columns:
        plain = row_type((*columns, *COUNT_COLUMNS))
        return [plain(*record) for record in records]
    at = columns.index(period.column)
    row = row_type((*columns[:at], *MONTH_COLUMNS, *columns[at + 1 :], *COUNT_COLUMNS))
    labels: dict[int, tuple[str, str, str]] = {}
    rows = []
    for record in records:
        month = record[at]
        label = labels.get(month)
        if label is None:
            label = labels[month] = month_values(month, period.calendar)
        rows.append(row(*record[:at], *label, *record[at + 1 :]))
    return rows


async def deliveries_report(
    conn: Conn, names: Mapping[str, str], group_by: Sequence[str], filters: Filters
) -> list[dict[str, Any]]:
    """The rows of `deliveries_rows` as dicts, for code that reads them by name."""
    return [
        msgspec.structs.asdict(row) for row in await deliveries_rows(conn, names, group_by, filters)
    ]
