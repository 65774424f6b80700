"""The reports' queries over folded states in memory instead of SQL over read-model
tables: what an auditor's offline recomputation runs (no database).

Each function here is the twin of one SQL query in the report modules: it selects,
groups, adds up and orders the same rows the SQL does, then hands them to the very
same shaping function (`shape_rows`, `pledge_row`, ...), so every figure's formatting
has one definition. The selecting and adding up are written twice (SQL for the live
tables, Python here); tests/audit/test_recompute_agreement.py holds them together on a
generated log, and `hamkari audit verify-report` fails loudly on any disagreement.

Text orders as the embedded PostgreSQL's C.UTF-8 collation does (code points), which
is Python's string order; money is Decimal, whose sums keep the largest scale as
PostgreSQL's numeric does."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from server.projections import deliveries as dl
from server.projections.commitments import commitment_row
from server.projections.deliveries import COUNT_COLUMNS, Filters
from server.projections.model import State
from server.projections.partner_record import assemble
from server.projections.periods import Period, first_day, last_day
from server.projections.pledge_months import shape_month_rows
from server.projections.pledges import pledge_row, shape_partner_rows
from server.projections.targets import shape_completeness, shape_progress
from server.projections.who_what_where import shape_row

#: Projection name -> its folded state (table -> key -> row).
States = Mapping[str, State]


def _rows(states: States, projection: str, table: str) -> Iterable[Any]:
    return states[projection][table].values()


def _within(value: Any, low: Any, high: Any) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _deliveries(states: States, filters: Filters) -> list[Any]:
    """The deliveries the SQL's `where(filters)` keeps (it reads their sums)."""
    period = filters.period
    column = period.column
    return [
        d
        for d in _rows(states, "deliveries", "deliveries")
        if _within(getattr(d, column), period.first, period.last)
        and (filters.partner is None or d.partner_id == filters.partner)
        and (filters.site is None or d.site_id == filters.site)
        and (filters.sector is None or d.sector == filters.sector)
    ]


def _group(
    rows: Iterable[Any], key: Callable[[Any], tuple[Any, ...]]
) -> dict[tuple[Any, ...], list[int]]:
    """COUNT_COLUMNS per group: the number of rows, then the counts added up."""
    sums: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        found = sums.get(key(row))
        if found is None:
            found = sums[key(row)] = [0] * len(COUNT_COLUMNS)
        found[0] += 1
        for i, column in enumerate(COUNT_COLUMNS[1:], start=1):
            found[i] += getattr(row, column)
    return sums


def deliveries_rows(
    states: States, group_by: Sequence[str], filters: Filters
) -> list[msgspec.Struct]:
    """`deliveries.deliveries_rows` in memory."""
    columns = dl.group_columns(group_by, filters.period)
    selected = _deliveries(states, filters)
    sums = _group(selected, lambda d: tuple(getattr(d, c) for c in columns))
    if not columns:  # one line of totals, zeros when nothing matched (as SQL's sum())
        return dl.shape_rows(
            [tuple(sums.get((), [0] * len(COUNT_COLUMNS)))], columns, filters.period
        )
    records = [(*key, *values) for key, values in sorted(sums.items())]
    return dl.shape_rows(records, columns, filters.period)


def deliveries_report(
    states: States, group_by: Sequence[str], filters: Filters
) -> list[dict[str, Any]]:
    return [msgspec.structs.asdict(r) for r in deliveries_rows(states, group_by, filters)]


def who_what_where(states: States, filters: Filters) -> list[dict[str, Any]]:
    """`who_what_where.who_what_where` in memory."""
    period = filters.period
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for d in _deliveries(states, filters):
        key = (d.partner_id, d.sector, d.site_id)
        month = getattr(d, period.column)
        g = groups.get(key)
        if g is None:
            g = groups[key] = {"activities": set(), "first": month, "last": month}
            g.update(dict.fromkeys(COUNT_COLUMNS, 0))
        g["activities"].add(d.activity)
        g["first"], g["last"] = min(g["first"], month), max(g["last"], month)
        g["deliveries"] += 1
        for column in COUNT_COLUMNS[1:]:
            g[column] += getattr(d, column)
    partners = states["directory"]["partners"]
    sites = states["directory"]["sites"]
    rows = []
    for (partner_id, sector, site_id), g in sorted(groups.items()):
        p, s = partners.get(partner_id), sites.get(site_id)
        record = {
            "partner_id": partner_id,
            "sector": sector,
            "site_id": site_id,
            "activities": sorted(g["activities"]),
            "first_month": g["first"],
            "last_month": g["last"],
            "partner_name_en": p and p.name_en,
            "partner_name_fa": p and p.name_fa,
            "site_name_en": s and s.name_en,
            "site_name_fa": s and s.name_fa,
            "province": s and s.province,
            "county": s and s.county,
            **{c: g[c] for c in COUNT_COLUMNS},
        }
        rows.append(shape_row(record, period))
    return rows


# --- pledges ----------------------------------------------------------------------


def _status(p: Any) -> str:
    """`pledges.STATUS_SQL` in Python."""
    if p.cancelled:
        return "cancelled"
    return "committed" if p.committed_on is not None else "uncommitted"


def _outstanding(p: Any) -> Decimal:
    """`pledges._OUTSTANDING` in Python (greatest() keeps its first argument on a tie)."""
    if p.cancelled:
        return p.amount * 0  # type: ignore[no-any-return]
    outstanding: Decimal = max(p.amount - p.disbursed, p.amount * 0)
    return outstanding


def _pledges(states: States, period: Period, partner: str | None) -> list[Any]:
    return [
        p
        for p in _rows(states, "pledges", "pledges")
        if (partner is None or p.partner_id == partner)
        and (period.start is None or p.period_end >= period.start)
        and (period.end is None or p.period_start <= period.end)
    ]


def pledge_rows(states: States, period: Period, partner: str | None) -> list[dict[str, Any]]:
    """`pledges.pledge_rows` in memory."""
    chosen = sorted(
        _pledges(states, period, partner),
        key=lambda p: (p.partner_id, p.currency, p.period_start, p.pledge_id),
    )
    return [
        pledge_row({**p._asdict(), "status": _status(p), "outstanding": _outstanding(p)})
        for p in chosen
    ]


def _add(total: Decimal | None, amount: Decimal) -> Decimal:
    return amount if total is None else total + amount


def partner_rows(states: States, period: Period, partner: str | None) -> list[dict[str, Any]]:
    """`pledges.partner_rows` in memory."""
    sums: dict[tuple[str, str, str], dict[str, Any]] = {}
    for p in _pledges(states, period, partner):
        key = (p.partner_id, p.currency, _status(p))
        s = sums.setdefault(key, {"pledges": 0, "pledged": None, "disbursed": None, "out": None})
        s["pledges"] += 1
        s["pledged"] = _add(s["pledged"], p.amount)
        s["disbursed"] = _add(s["disbursed"], p.disbursed)
        s["out"] = _add(s["out"], _outstanding(p))
    return shape_partner_rows(
        [
            {
                "partner_id": partner_id,
                "currency": currency,
                "status": status,
                "pledges": s["pledges"],
                "pledged": s["pledged"],
                "disbursed": s["disbursed"],
                "outstanding": s["out"],
            }
            for (partner_id, currency, status), s in sums.items()
        ]
    )


def _by_day(items: Iterable[tuple[datetime.date, str, str, Decimal]]) -> list[dict[str, Any]]:
    sums: dict[tuple[datetime.date, str, str], dict[str, Any]] = {}
    for day, currency, status, amount in items:
        s = sums.setdefault((day, currency, status), {"n": 0, "amount": None})
        s["n"] += 1
        s["amount"] = _add(s["amount"], amount)
    return [
        {"day": day, "currency": currency, "status": status, **s}
        for (day, currency, status), s in sums.items()
    ]


def month_rows(states: States, period: Period, partner: str | None) -> list[dict[str, Any]]:
    """`pledge_months.month_rows` in memory."""
    pledges = states["pledges"]["pledges"]
    pledged = _by_day(
        (p.made_on, p.currency, _status(p), p.amount)
        for p in pledges.values()
        if _within(p.made_on, period.start, period.end)
        and (partner is None or p.partner_id == partner)
    )
    disbursed = _by_day(
        (d.disbursed_on, p.currency, _status(p), d.amount)
        for d in _rows(states, "pledges", "disbursements")
        if (p := pledges.get(d.pledge_id)) is not None
        and _within(d.disbursed_on, period.start, period.end)
        and (partner is None or p.partner_id == partner)
    )
    return shape_month_rows(pledged, disbursed, period)


# --- commitments --------------------------------------------------------------------


def commitment_rows(
    states: States,
    *,
    on: datetime.date,
    status: str | None = None,
    owner: str | None = None,
    period: Period | None = None,
) -> list[dict[str, Any]]:
    """`commitments.commitment_rows` in memory."""
    period = period or Period()
    state = "open" if status == "overdue" else status
    chosen = sorted(
        (
            c
            for c in _rows(states, "commitments", "commitments")
            if (state is None or c.state == state)
            and (owner is None or c.owner_partner_id == owner)
            and _within(c.due_on, period.start, period.end)
            and (status != "overdue" or c.due_on < on)
        ),
        key=lambda c: (c.due_on, c.commitment_id),
    )
    return [
        commitment_row({**c._asdict(), "overdue": c.state == "open" and c.due_on < on}, on)
        for c in chosen
    ]


# --- one partner's record -------------------------------------------------------------


def partner_record(
    states: States, partner_id: str, filters: Filters, on: datetime.date
) -> dict[str, Any] | None:
    """`partner_record.partner_record` in memory."""
    p = states["directory"]["partners"].get(partner_id)
    if p is None:
        return None
    filters = msgspec.structs.replace(filters, partner=partner_id)
    period = filters.period
    record = states["partner_record"]
    challenges = sorted(
        (
            c
            for c in record["challenges"].values()
            if c.partner_id == partner_id and _within(c.reported_on, period.start, period.end)
        ),
        key=lambda c: (c.reported_on, c.reported_position),
    )
    presented: dict[Any, list[dict[str, Any]]] = {}
    for r in sorted(record["presentations"].values(), key=lambda r: r.presented_position):
        if r.partner_id == partner_id:
            presented.setdefault(r.meeting_id, []).append(
                {"summary": r.summary, "challenges": msgspec.json.decode(r.challenges)}
            )
    meetings = sorted(
        (
            {**m._asdict(), "presented": presented.get(m.meeting_id, [])}
            for m in record["meetings"].values()
            if (
                m.meeting_id in presented
                or any(
                    q.get("partner_id") == partner_id for q in msgspec.json.decode(m.participants)
                )
            )
            and _within(m.held_on, period.start, period.end)
        ),
        key=lambda m: (m["held_on"], m["meeting_id"]),
    )
    partner = {
        "partner_id": p.partner_id,
        "name_fa": p.name_fa,
        "name_en": p.name_en,
        "kind": p.kind,
        "country": p.country,
        "suspended": p.suspended,
    }
    by_partner = partner_rows(states, period, partner_id)
    return assemble(
        partner,
        period.describe(),
        deliveries_report(states, ("site", "sector", "month"), filters),
        deliveries_report(states, (), filters)[0],
        pledge_rows(states, period, partner_id),
        by_partner,
        commitment_rows(states, on=on, owner=partner_id, period=period),
        [c._asdict() for c in challenges],
        meetings,
    )


# --- planned vs reached -----------------------------------------------------------


def progress_rows(
    states: States, group_by: Sequence[str], filters: Filters
) -> list[dict[str, Any]]:
    """`targets.progress_rows` in memory."""
    period = filters.period
    start = period.start or datetime.date.min
    end = period.end or datetime.date.max
    targets = [
        t._asdict()
        for t in _rows(states, "targets", "targets")
        if t.period_end >= start
        and t.period_start <= end
        and (filters.partner is None or t.partner_id == filters.partner)
        and (filters.site is None or t.site_id == filters.site)
        and (filters.sector is None or t.sector == filters.sector)
    ]
    delivery_groups = [g for g in ("partner", "site", "sector", "month") if g in group_by]
    delivered = deliveries_report(states, delivery_groups, filters)
    return shape_progress(targets, delivered, group_by, filters)


def completeness_rows(states: States, month: int, period: Period) -> list[dict[str, Any]]:
    """`targets.completeness_rows` in memory."""
    one = Filters(period=Period(calendar=period.calendar, first=month, last=month))
    delivered = deliveries_report(states, ("partner",), one)
    partners = [
        {"partner_id": p.partner_id, "name_fa": p.name_fa, "name_en": p.name_en}
        for p in sorted(_rows(states, "directory", "partners"), key=lambda p: p.partner_id)
        if not p.suspended
    ]
    first, last = first_day(month, period.calendar), last_day(month, period.calendar)
    planned = {
        t.partner_id
        for t in _rows(states, "targets", "targets")
        if t.period_start <= last and t.period_end >= first
    }
    return shape_completeness(month, delivered, partners, planned)
