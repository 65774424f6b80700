"""Who promised what, signed what, paid what: every pledge with its amount, commitment,
cancellation and disbursements (each kept with its date, for the months they fell in),
and the report per pledge and per partner per currency.

Money is exact: numeric in PostgreSQL, Decimal in Python, decimal strings on the
wire; IRR stays in rials. Uncommitted and cancelled pledges are reported apart from
the committed ones and never added into their totals."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from schemas import events as ev
from schemas.common import money_value
from server.projections.commitments import tehran_date
from server.projections.model import Conn, Event, Projection, State, Table
from server.projections.periods import Period


class PledgeRow(NamedTuple):
    pledge_id: uuid.UUID
    partner_id: str
    currency: str
    amount: Decimal
    sectors: str
    site_id: str | None
    period_start: datetime.date
    period_end: datetime.date
    meeting_id: uuid.UUID | None
    description: str | None
    committed_on: datetime.date | None
    agreement_ref: str | None
    cancelled: bool
    disbursed: Decimal
    disbursements: int
    made_on: datetime.date
    made_position: int


class DisbursementRow(NamedTuple):
    """One disbursement added to its pledge's total; keyed by its position in the log,
    so that every disbursement the total counts has exactly one row."""

    disbursed_position: int
    disbursement_id: uuid.UUID
    pledge_id: uuid.UUID
    amount: Decimal
    disbursed_on: datetime.date


def _made(state: State, event: Event) -> None:
    d: ev.PledgeMade = event.data
    amount = money_value(d.amount)
    state["pledges"][d.pledge_id] = PledgeRow(
        d.pledge_id,
        d.partner_id,
        d.currency,
        amount,
        ",".join(d.sectors),
        d.site_id,
        d.period_start,
        d.period_end,
        d.meeting_id,
        d.description,
        None,
        None,
        False,
        amount * 0,  # zero at the pledge's own scale: "0.00" next to "250000.00"
        0,
        tehran_date(event.recorded_at),  # a pledge carries no date: the day it was told
        event.position,
    )


def _change(state: State, pledge_id: uuid.UUID, **changes: Any) -> None:
    pledges = state["pledges"]
    row = pledges.get(pledge_id)
    if row is not None:
        pledges[pledge_id] = row._replace(**changes)


def _committed(state: State, event: Event) -> None:
    d: ev.PledgeCommitted = event.data
    row = state["pledges"].get(d.pledge_id)
    if row is not None and row.committed_on is None:
        _change(state, d.pledge_id, committed_on=d.committed_on, agreement_ref=d.agreement_ref)


def _amended(state: State, event: Event) -> None:
    d: ev.PledgeAmended = event.data
    changes: dict[str, Any] = {}
    if d.amount is not None:
        changes["amount"] = money_value(d.amount)
    if d.period_end is not None:
        changes["period_end"] = d.period_end
    _change(state, d.pledge_id, **changes)


def _disbursed(state: State, event: Event) -> None:
    d: ev.DisbursementRecorded = event.data
    row = state["pledges"].get(d.pledge_id)
    # money in another currency than the pledge's cannot be added to it (a rule the
    # write side enforces); it is left out rather than summed across currencies
    if row is not None and row.currency == d.currency:
        amount = money_value(d.amount)
        _change(
            state,
            d.pledge_id,
            disbursed=row.disbursed + amount,
            disbursements=row.disbursements + 1,
        )
        state["disbursements"][event.position] = DisbursementRow(
            event.position, d.disbursement_id, d.pledge_id, amount, d.disbursed_on
        )


def _cancelled(state: State, event: Event) -> None:
    _change(state, event.data.pledge_id, cancelled=True)


PLEDGES = Projection(
    name="pledges",
    description="pledges with their commitment, cancellation and dated disbursements",
    tables=(
        Table(
            "pledges",
            PledgeRow,
            {
                "pledge_id": "uuid",
                "partner_id": "text",
                "currency": "text",
                "amount": "numeric",
                "sectors": "text",
                "site_id": "text",
                "period_start": "date",
                "period_end": "date",
                "meeting_id": "uuid",
                "description": "text",
                "committed_on": "date",
                "agreement_ref": "text",
                "cancelled": "boolean",
                "disbursed": "numeric",
                "disbursements": "integer",
                "made_on": "date",
                "made_position": "bigint",
            },
        ),
        Table(
            "disbursements",
            DisbursementRow,
            {
                "disbursed_position": "bigint",
                "disbursement_id": "uuid",
                "pledge_id": "uuid",
                "amount": "numeric",
                "disbursed_on": "date",
            },
        ),
    ),
    handlers={
        "PledgeMade": _made,
        "PledgeCommitted": _committed,
        "PledgeAmended": _amended,
        "DisbursementRecorded": _disbursed,
        "PledgeCancelled": _cancelled,
    },
    reads={
        name: ("pledges", "pledge_id")
        for name in (
            "PledgeMade",
            "PledgeCommitted",
            "PledgeAmended",
            "DisbursementRecorded",
            "PledgeCancelled",
        )
    },
)


# --- the pledges report -----------------------------------------------------------

STATUSES = ("committed", "uncommitted", "cancelled")
#: A pledge's status as it stands now, in SQL over the pledges table's columns.
STATUS_SQL = (
    "CASE WHEN cancelled THEN 'cancelled' WHEN committed_on IS NOT NULL THEN 'committed'"
    " ELSE 'uncommitted' END"
)
# `amount * 0`: a zero at the pledge's own scale ("0.00" next to "250000.00")
_OUTSTANDING = (
    "CASE WHEN cancelled THEN amount * 0 ELSE greatest(amount - disbursed, amount * 0) END"
)


def money(value: Decimal) -> str:
    """A decimal string: never an exponent, never a float."""
    return format(value, "f")


def percent(part: Decimal, whole: Decimal) -> str | None:
    if not whole:
        return None
    return money((part * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _where(period: Period, partner: str | None) -> tuple[str, list[Any]]:
    conditions, args = [], []
    for sql, value in (
        ("partner_id = ${}", partner),
        ("period_end >= ${}", period.start),
        ("period_start <= ${}", period.end),
    ):
        if value is not None:
            args.append(value)
            conditions.append(sql.format(len(args)))
    return (" WHERE " + " AND ".join(conditions)) if conditions else "", args


def _figures(
    status: str, pledged: Decimal, disbursed: Decimal, outstanding: Decimal
) -> dict[str, Any]:
    committed = pledged if status == "committed" else pledged * 0
    return {
        "pledged": money(pledged),
        "committed": money(committed),
        "disbursed": money(disbursed),
        "outstanding": money(outstanding),
        "fulfilment_percent": percent(disbursed, pledged),
    }


async def pledge_rows(
    conn: Conn, names: Mapping[str, str], period: Period, partner: str | None
) -> list[dict[str, Any]]:
    """One row per pledge whose period overlaps the report's."""
    condition, args = _where(period, partner)
    records = await conn.fetch(
        f"SELECT *, {STATUS_SQL} AS status, {_OUTSTANDING} AS outstanding"
        f" FROM {names['pledges']}{condition}"
        " ORDER BY partner_id, currency, period_start, pledge_id",
        *args,
    )
    return [pledge_row(r) for r in records]


def pledge_row(r: Mapping[str, Any]) -> dict[str, Any]:
    """A pledges-table row with its `status` and `outstanding` -> a report row; shared
    by the SQL report and its in-memory twin."""
    return {
        "pledge_id": str(r["pledge_id"]),
        "partner_id": r["partner_id"],
        "status": r["status"],
        "currency": r["currency"],
        **_figures(r["status"], r["amount"], r["disbursed"], r["outstanding"]),
        "disbursements": r["disbursements"],
        "sectors": r["sectors"].split(","),
        "site_id": r["site_id"],
        "period_start": r["period_start"].isoformat(),
        "period_end": r["period_end"].isoformat(),
        "committed_on": r["committed_on"] and r["committed_on"].isoformat(),
        "agreement_ref": r["agreement_ref"],
        "made_on": r["made_on"].isoformat(),
    }


async def partner_rows(
    conn: Conn, names: Mapping[str, str], period: Period, partner: str | None
) -> list[dict[str, Any]]:
    """One row per partner, currency and status (committed, uncommitted, cancelled)."""
    condition, args = _where(period, partner)
    records = await conn.fetch(
        f"SELECT partner_id, currency, {STATUS_SQL} AS status, count(*) AS pledges,"
        f" sum(amount) AS pledged, sum(disbursed) AS disbursed,"
        f" sum({_OUTSTANDING}) AS outstanding"
        f" FROM {names['pledges']}{condition} GROUP BY 1, 2, 3",
        *args,
    )
    return shape_partner_rows(records)


def shape_partner_rows(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Sums per partner, currency and status -> the report's rows in order; shared by
    the SQL report and its in-memory twin."""
    order = {status: i for i, status in enumerate(STATUSES)}
    records = sorted(records, key=lambda r: (r["partner_id"], r["currency"], order[r["status"]]))
    return [
        {
            "partner_id": r["partner_id"],
            "currency": r["currency"],
            "status": r["status"],
            "pledges": r["pledges"],
            **_figures(r["status"], r["pledged"], r["disbursed"], r["outstanding"]),
        }
        for r in records
    ]


def totals(partners: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per currency: the committed totals, and uncommitted and cancelled apart."""
    sums: dict[tuple[str, str], list[Any]] = {}
    for row in partners:
        key = (row["status"], row["currency"])
        figures = [Decimal(row[f]) for f in ("pledged", "disbursed", "outstanding")]
        current = sums.setdefault(key, [0, *(f * 0 for f in figures)])
        current[0] += row["pledges"]
        for i, value in enumerate(figures, start=1):
            current[i] += value
    result: dict[str, list[dict[str, Any]]] = {status: [] for status in STATUSES}
    for (status, currency), (count, pledged, disbursed, outstanding) in sorted(sums.items()):
        result[status].append(
            {
                "currency": currency,
                "pledges": count,
                **_figures(status, pledged, disbursed, outstanding),
            }
        )
    return result
