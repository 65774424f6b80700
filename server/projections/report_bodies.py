"""Every report as one definition: its parameters (normalised, as an attestation signs
them) and its body, built from a `Source` of rows: the read-model tables through SQL
(`TableSource`, what the API and the dashboard read, live or at a past position) or
folded states in memory (`MemorySource`, what an auditor's offline recomputation
reads). Both sources answer the same questions; the body around them is written once.

`Params` is a plain dict with every parameter present (null when not given), so the
same report asked twice signs the same parameters."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from server.projections import formats, in_memory
from server.projections import targets as tg
from server.projections.commitments import STATUSES as COMMITMENT_STATUSES
from server.projections.commitments import commitment_rows
from server.projections.deliveries import GROUPS, Filters, deliveries_rows
from server.projections.model import Conn
from server.projections.partner_record import partner_record
from server.projections.periods import Period, PeriodError, format_month, parse_month, parse_period
from server.projections.pledge_months import month_rows, month_totals
from server.projections.pledges import partner_rows, pledge_rows, totals
from server.projections.who_what_where import who_what_where

Params = dict[str, Any]

PLEDGE_VIEWS: Mapping[str, formats.Columns] = {
    "pledges": formats.PLEDGES,
    "partners": formats.PLEDGES_BY_PARTNER,
    "months": formats.PLEDGES_BY_MONTH,
}
PROGRESS_VIEWS = ("progress", "completeness")


class BadParameter(Exception):
    """A report parameter that cannot be used (400 in the API)."""


class Source(Protocol):
    """The rows a report body is built from, wherever they come from."""

    async def who_what_where(self, filters: Filters) -> list[dict[str, Any]]: ...
    async def deliveries(self, group_by: Sequence[str], filters: Filters) -> list[Any]: ...
    async def pledges(self, period: Period, partner: str | None) -> list[dict[str, Any]]: ...
    async def by_partner(self, period: Period, partner: str | None) -> list[dict[str, Any]]: ...
    async def by_month(self, period: Period, partner: str | None) -> list[dict[str, Any]]: ...
    async def commitments(
        self, on: datetime.date, status: str | None, owner: str | None, period: Period
    ) -> list[dict[str, Any]]: ...
    async def record(
        self, partner_id: str, filters: Filters, on: datetime.date
    ) -> dict[str, Any] | None: ...
    async def progress(self, group_by: Sequence[str], filters: Filters) -> list[dict[str, Any]]: ...
    async def completeness(self, month: int, period: Period) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class TableSource:
    """The read-model tables `names` over `conn` (live, or temporary ones at a position)."""

    conn: Conn
    names: Mapping[str, str]

    async def who_what_where(self, filters: Filters) -> list[dict[str, Any]]:
        return await who_what_where(self.conn, self.names, filters)

    async def deliveries(self, group_by: Sequence[str], filters: Filters) -> list[Any]:
        return await deliveries_rows(self.conn, self.names, group_by, filters)

    async def pledges(self, period: Period, partner: str | None) -> list[dict[str, Any]]:
        return await pledge_rows(self.conn, self.names, period, partner)

    async def by_partner(self, period: Period, partner: str | None) -> list[dict[str, Any]]:
        return await partner_rows(self.conn, self.names, period, partner)

    async def by_month(self, period: Period, partner: str | None) -> list[dict[str, Any]]:
        return await month_rows(self.conn, self.names, period, partner)

    async def commitments(
        self, on: datetime.date, status: str | None, owner: str | None, period: Period
    ) -> list[dict[str, Any]]:
        return await commitment_rows(
            self.conn, self.names, on=on, status=status, owner=owner, period=period
        )

    async def record(
        self, partner_id: str, filters: Filters, on: datetime.date
    ) -> dict[str, Any] | None:
        return await partner_record(self.conn, self.names, partner_id, filters, on)

    async def progress(self, group_by: Sequence[str], filters: Filters) -> list[dict[str, Any]]:
        return await tg.progress_rows(self.conn, self.names, group_by, filters)

    async def completeness(self, month: int, period: Period) -> list[dict[str, Any]]:
        return await tg.completeness_rows(self.conn, self.names, month, period)


@dataclass(frozen=True)
class MemorySource:
    """Folded states in memory (server/projections/in_memory.py): no database."""

    states: in_memory.States

    async def who_what_where(self, filters: Filters) -> list[dict[str, Any]]:
        return in_memory.who_what_where(self.states, filters)

    async def deliveries(self, group_by: Sequence[str], filters: Filters) -> list[Any]:
        return in_memory.deliveries_rows(self.states, group_by, filters)

    async def pledges(self, period: Period, partner: str | None) -> list[dict[str, Any]]:
        return in_memory.pledge_rows(self.states, period, partner)

    async def by_partner(self, period: Period, partner: str | None) -> list[dict[str, Any]]:
        return in_memory.partner_rows(self.states, period, partner)

    async def by_month(self, period: Period, partner: str | None) -> list[dict[str, Any]]:
        return in_memory.month_rows(self.states, period, partner)

    async def commitments(
        self, on: datetime.date, status: str | None, owner: str | None, period: Period
    ) -> list[dict[str, Any]]:
        return in_memory.commitment_rows(
            self.states, on=on, status=status, owner=owner, period=period
        )

    async def record(
        self, partner_id: str, filters: Filters, on: datetime.date
    ) -> dict[str, Any] | None:
        return in_memory.partner_record(self.states, partner_id, filters, on)

    async def progress(self, group_by: Sequence[str], filters: Filters) -> list[dict[str, Any]]:
        return in_memory.progress_rows(self.states, group_by, filters)

    async def completeness(self, month: int, period: Period) -> list[dict[str, Any]]:
        return in_memory.completeness_rows(self.states, month, period)


@dataclass(frozen=True)
class Body:
    """A report's answer but its position: the JSON `document` (without
    `as_of_position`, `warnings` or `attestation`), the `rows` CSV exports, their
    `columns`, and the file name; `document` None: the report names nothing registered."""

    document: dict[str, Any] | None
    rows: Sequence[Any]
    columns: formats.Columns
    filename: str


# --- parameters -----------------------------------------------------------------------


def _period(params: Params) -> Period:
    try:
        return parse_period(params.get("calendar"), params.get("from"), params.get("to"))
    except PeriodError as exc:
        raise BadParameter(str(exc)) from None


def _period_params(calendar: str | None, first: str | None, last: str | None) -> Params:
    period = _period({"calendar": calendar, "from": first, "to": last})
    return {
        "calendar": period.calendar,
        "from": None if period.first is None else format_month(period.first),
        "to": None if period.last is None else format_month(period.last),
    }


def groups(group_by: str | None, allowed: Sequence[str]) -> list[str]:
    if group_by is None:
        return list(allowed)
    chosen = [g.strip() for g in group_by.split(",") if g.strip()]
    unknown = [g for g in chosen if g not in allowed]
    if unknown:
        raise BadParameter(f"group_by takes {', '.join(allowed)}; not {', '.join(unknown)}")
    return [g for g in allowed if g in chosen]


def _chosen(params: Params, allowed: Sequence[str]) -> list[str]:
    """The signed `group_by` (a list) checked again: all when absent, none when empty."""
    given = params.get("group_by")
    if given is not None and not (
        isinstance(given, list) and all(isinstance(g, str) and "," not in g for g in given)
    ):
        raise BadParameter(f"group_by must be a list of names, not {given!r}")
    return groups(None if given is None else ",".join(given), allowed)


def _day(value: datetime.date | str | None, default: datetime.date) -> str:
    if value is None:
        return default.isoformat()
    return value if isinstance(value, str) else value.isoformat()


def _on(params: Params) -> datetime.date:
    try:
        return datetime.date.fromisoformat(params["on"])
    except (KeyError, TypeError, ValueError):
        raise BadParameter(f"on must be a day, YYYY-MM-DD, not {params.get('on')!r}") from None


def www_params(
    *, partner: str | None, site: str | None, sector: str | None, **period: str | None
) -> Params:
    return {"partner": partner, "site": site, "sector": sector, **_period_params(**period)}


def deliveries_params(
    *,
    group_by: str | None,
    partner: str | None,
    site: str | None,
    sector: str | None,
    **period: str | None,
) -> Params:
    chosen = groups(group_by, GROUPS)
    return {"group_by": chosen, **www_params(partner=partner, site=site, sector=sector, **period)}


def pledges_params(*, view: str | None, partner: str | None, **period: str | None) -> Params:
    chosen = view or "pledges"
    if chosen not in PLEDGE_VIEWS:
        raise BadParameter(f"view must be pledges, partners or months, not {chosen!r}")
    return {"view": chosen, "partner": partner, **_period_params(**period)}


def commitments_params(
    *,
    status: str | None,
    owner: str | None,
    on: datetime.date | None,
    today: datetime.date,
    **period: str | None,
) -> Params:
    if status is not None and status not in COMMITMENT_STATUSES:
        raise BadParameter(f"status must be one of {', '.join(COMMITMENT_STATUSES)}")
    return {"status": status, "owner": owner, "on": _day(on, today), **_period_params(**period)}


def partner_params(
    *, partner_id: str, on: datetime.date | None, today: datetime.date, **period: str | None
) -> Params:
    return {"partner_id": partner_id, "on": _day(on, today), **_period_params(**period)}


def progress_params(
    *,
    view: str | None,
    group_by: str | None,
    month: str | None,
    partner: str | None,
    site: str | None,
    sector: str | None,
    **period: str | None,
) -> Params:
    chosen = view or "progress"
    if chosen not in PROGRESS_VIEWS:
        raise BadParameter(f"view must be progress or completeness, not {chosen!r}")
    params = {"view": chosen, **_period_params(**period)}
    if chosen == "completeness":
        if month is None:
            raise BadParameter("view=completeness needs month=YYYY-MM")
        try:
            parse_month(month, params["calendar"])
        except PeriodError as exc:
            raise BadParameter(str(exc)) from None
        return {**params, "month": month}
    chosen_groups = groups(group_by, tg.GROUPS)
    return {**params, "group_by": chosen_groups, "partner": partner, "site": site, "sector": sector}


# --- bodies ---------------------------------------------------------------------------


def _filters(params: Params) -> Filters:
    return Filters(
        period=_period(params),
        partner=params.get("partner"),
        site=params.get("site"),
        sector=params.get("sector"),
    )


async def _www(src: Source, params: Params) -> Body:
    filters = _filters(params)
    rows = await src.who_what_where(filters)
    document = {"period": filters.period.describe(), "rows": rows}
    return Body(document, rows, formats.who_what_where_columns(), "who-what-where")


async def _deliveries(src: Source, params: Params) -> Body:
    filters = _filters(params)
    chosen = _chosen(params, GROUPS)
    rows = await src.deliveries(chosen, filters)
    document = {"period": filters.period.describe(), "group_by": chosen, "rows": rows}
    return Body(document, rows, formats.delivery_columns(chosen), "deliveries")


async def _pledges(src: Source, params: Params) -> Body:
    period, partner, view = _period(params), params.get("partner"), params.get("view")
    if not isinstance(view, str) or view not in PLEDGE_VIEWS:
        raise BadParameter(f"view must be pledges, partners or months, not {view!r}")
    sums: dict[str, Any]
    if view == "months":
        rows = await src.by_month(period, partner)
        sums = month_totals(rows)
    else:
        by_partner = await src.by_partner(period, partner)
        rows = by_partner if view == "partners" else await src.pledges(period, partner)
        sums = totals(by_partner)
    document = {
        "period": period.describe(),
        "view": view,
        "rows": rows,
        "totals": sums.pop("committed"),
        **sums,
    }
    return Body(document, rows, PLEDGE_VIEWS[view], "pledges")


async def _commitments(src: Source, params: Params) -> Body:
    period, day, status = _period(params), _on(params), params.get("status")
    if status is not None and status not in COMMITMENT_STATUSES:
        raise BadParameter(f"status must be one of {', '.join(COMMITMENT_STATUSES)}")
    rows = await src.commitments(day, status, params.get("owner"), period)
    document = {"period": period.describe(), "on": day.isoformat(), "rows": rows}
    return Body(document, rows, formats.COMMITMENTS, "commitments")


async def _partner(src: Source, params: Params) -> Body:
    partner_id = params.get("partner_id")
    if not isinstance(partner_id, str):
        raise BadParameter("partner_id is missing")
    filters = Filters(period=_period(params))
    document = await src.record(partner_id, filters, _on(params))
    rows = [] if document is None else document["rows"]
    columns = formats.delivery_columns(("site", "sector", "month"))
    return Body(document, rows, columns, f"partner-{partner_id}")


async def _progress(src: Source, params: Params) -> Body:
    period = _period(params)
    if params.get("view") == "completeness":
        try:
            key = parse_month(str(params.get("month")), period.calendar)
        except PeriodError as exc:
            raise BadParameter(str(exc)) from None
        rows = await src.completeness(key, period)
        document: dict[str, Any] = {"view": "completeness", "month": params["month"], "rows": rows}
        return Body(document, rows, formats.COMPLETENESS, "completeness")
    chosen = _chosen(params, tg.GROUPS)
    filters = _filters(params)
    rows = await src.progress(chosen, filters)
    document = {"view": "progress", "period": period.describe(), "group_by": chosen, "rows": rows}
    return Body(document, rows, formats.progress_columns(chosen), "progress")


Builder = Callable[[Source, Params], Awaitable[Body]]

#: Report name (as in server/projections/catalog.py REPORTS) -> how its body is built.
BODIES: dict[str, Builder] = {
    "who-what-where": _www,
    "deliveries": _deliveries,
    "pledges": _pledges,
    "commitments": _commitments,
    "partner": _partner,
    "progress": _progress,
}


async def build(src: Source, report: str, params: Params) -> Body:
    builder = BODIES.get(report)
    if builder is None:
        raise BadParameter(f"no report is called {report!r}")
    return await builder(src, params)


def content(document: Mapping[str, Any]) -> dict[str, Any]:
    """What an attestation's digest covers: the document but its position, its warnings
    and the attestation itself (rows as plain data)."""
    skip = ("as_of_position", "warnings", "attestation")
    plain: dict[str, Any] = msgspec.to_builtins(
        {k: v for k, v in document.items() if k not in skip}
    )
    return plain
