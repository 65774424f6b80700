"""The report pages: the overview (this month against last), who-what-where with
filters, pledges with fulfilment bars, and commitments with the overdue ones first.

Each reads through the same ReportReader and query functions as the JSON reports, in
the reader's calendar, so the figures on a page are the figures of the API."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import ValidationException
from litestar.params import FromQuery

from schemas.codes import SECTORS
from server.api.parameters import BLANK_OR_SLUG, blank_or
from server.auth.tokens import Role
from server.projections import formats
from server.projections.commitments import commitment_rows, today_in_tehran
from server.projections.deliveries import MONTH_TOTALS, Filters, deliveries_report
from server.projections.model import Conn
from server.projections.periods import (
    Period,
    PeriodError,
    format_month,
    month_key,
    month_values,
    next_month,
    parse_month,
    parse_period,
)
from server.projections.pledge_months import month_rows
from server.projections.pledges import partner_rows, pledge_rows, totals
from server.projections.reading import ReportReader
from server.projections.who_what_where import who_what_where
from server.web import charts, tables
from server.web.directory import directory
from server.web.downloads import Table, named
from server.web.frame import OVERSEERS, asked_position, locale_of, page, paginate, viewer
from server.web.i18n import Locale, typed_month
from server.web.ledger import latest_events
from server.web.money import compare_months
from server.web.money_charts import money_charts, money_rows
from server.web.views import SHAREABLE, choices, read_view

# the filters reach SQL: their shape is checked before (a NUL was a 500)
PartnerChoice = Annotated[str | None, blank_or(BLANK_OR_SLUG, "a partner_id")]

OVERVIEW_PROJECTIONS = ("directory", "deliveries", "pledges", "commitments")
CHART_MONTHS = 6
MONTH_FIELDS = ("month", "month_label_fa", "month_label_en")


def previous_month(key: int) -> int:
    year, month = divmod(key, 100)
    return (year - 1) * 100 + 12 if month == 1 else key - 1


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _bad_month(exc: PeriodError) -> ValidationException:
    # the error page says in the reader's words how to write a month
    return ValidationException(str(exc), extra={"label": "bad_month"})


def _period(ui: Locale, first: str | None, last: str | None) -> Period:
    try:
        return parse_period(ui.calendar, typed_month(first), typed_month(last))
    except PeriodError as exc:
        raise _bad_month(exc) from None


def _month(ui: Locale, text: str | None) -> int | None:
    """The month asked for (in any digits), or None when none was."""
    typed = typed_month(text)
    if typed is None:
        return None
    try:
        return parse_month(typed, ui.calendar)
    except PeriodError as exc:
        raise _bad_month(exc) from None


def month_choices(ui: Locale, upto: int, count: int = 36) -> list[tuple[str, str]]:
    """The month picker's list: (value, label) for the `count` months up to `upto`,
    newest first, values written in the reader's digits (the server reads either)."""
    keys = [upto]
    while len(keys) < count:
        keys.append(previous_month(keys[-1]))
    return [(ui.digits(format_month(k)), ui.month(k)) for k in keys]


async def latest_month_with_data(conn: Conn, names: Any, calendar: str, upto: int) -> int | None:
    """The latest month at or before `upto` in which any service was delivered."""
    column = "j_month" if calendar == "jalali" else "g_month"
    table = names[MONTH_TOTALS["jalali" if calendar == "jalali" else "gregorian"]]
    found = await conn.fetchval(
        f"SELECT max({column}) FROM {table} WHERE {column} <= $1 AND deliveries > 0", upto
    )
    return None if found is None else int(found)


def _compare(
    this: list[dict[str, Any]], last: list[dict[str, Any]], key: str
) -> list[dict[str, Any]]:
    """Rows of this month and last side by side, largest this month first."""
    now = {r[key]: r["total"] for r in this}
    before = {r[key]: r["total"] for r in last}
    rows = [{"key": k, "this": now.get(k, 0), "last": before.get(k, 0)} for k in {*now, *before}]
    return sorted(rows, key=lambda r: (-r["this"], -r["last"], r["key"]))


def _overview_tables(
    ui: Locale,
    body: dict[str, Any],
    money_months: dict[str, list[dict[str, Any]]],
    events: list[dict[str, Any]] | None,
    key: int,
    before: int,
) -> dict[str, Table]:
    """The overview's tables as files, row for row as drawn."""
    this, last = format_month(key), format_month(before)

    def compared(rows: list[dict[str, Any]], column: str) -> list[dict[str, Any]]:
        lines = [
            {
                column: r["key"],
                "month": this,
                "total": r["this"],
                "previous_month": last,
                "previous_total": r["last"],
                "change": r["this"] - r["last"],
            }
            for r in rows
        ]
        return named(lines, ui, body["directory"], partner=None)

    def dated(rows: list[dict[str, Any]], month: str, previous: str) -> list[dict[str, Any]]:
        return [{**r, "month": month, "previous_month": previous} for r in rows]

    totals = [
        dict(zip(MONTH_FIELDS, month_values(m, ui.calendar), strict=True)) | t
        for m, t in zip((key, before), body["totals"], strict=True)
    ]
    money = body["money"]
    found = {
        "totals": Table(tables.MONTH_TOTALS, totals),
        "by-sector": Table(tables.BY_SECTOR, compared(body["sectors"], "sector")),
        "by-site": Table(tables.BY_SITE, compared(body["sites"], "site_id")),
        "money-months": Table(tables.MONEY_MONTHS, dated(money_months["committed"], this, last)),
        "money-months-apart": Table(
            tables.MONEY_MONTHS,
            dated(money_months["uncommitted"] + money_months["cancelled"], this, last),
        ),
        "money-totals": Table(
            tables.MONEY_TOTALS, [{**r, "status": "committed"} for r in money["committed"]]
        ),
        "money-totals-apart": Table(
            tables.MONEY_TOTALS,
            [{**r, "status": s} for s in ("uncommitted", "cancelled") for r in money[s]],
        ),
    }
    if events is not None:
        found["events"] = Table(tables.EVENTS, events)
    return found


class ReportsPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/")
    async def overview(
        self, request: Request[Any, Any, Any], month: FromQuery[str | None] = None
    ) -> Response[Any]:
        principal = viewer(request)
        ui = locale_of(request)
        at = asked_position(request)
        current = month_key(today_in_tehran(), ui.calendar)
        asked = _month(ui, month)
        reader: ReportReader = request.app.state.reports
        # a partner lands on its own figures; every partner's are on the shared 3W
        own = principal.partner_id if principal.role is Role.PARTNER else None
        chosen_because = None
        if asked is None:
            # a month just begun reads as zeros and large drops: open on the last
            # complete month, or the latest month with data when that one is empty
            complete = previous_month(current)

            async def latest(conn: Conn, names: Any) -> int | None:
                return await latest_month_with_data(conn, names, ui.calendar, complete)

            with_data = (await reader.read_at(("deliveries",), latest, at)).body
            key = complete if with_data is None else with_data
            chosen_because = "month_shown_complete" if key == complete else "month_shown_latest"
        else:
            key = asked
        before = previous_month(key)
        first_chart = key
        for _ in range(CHART_MONTHS - 1):
            first_chart = previous_month(first_chart)

        def one(m: int) -> Filters:
            return Filters(period=Period(calendar=ui.calendar, first=m, last=m), partner=own)

        async def query(conn: Conn, names: Any) -> dict[str, Any]:
            chart = Filters(
                period=Period(calendar=ui.calendar, first=first_chart, last=key), partner=own
            )
            everyone = Period(calendar=ui.calendar)
            by_partner = await partner_rows(conn, names, everyone, own)
            open_rows = await commitment_rows(
                conn, names, on=today_in_tehran(), status="open", owner=own
            )
            return {
                "totals": [
                    (await deliveries_report(conn, names, (), one(m)))[0] for m in (key, before)
                ],
                # the month under way, so far, when another one is shown
                "current": None
                if key == current
                else (await deliveries_report(conn, names, (), one(current)))[0],
                "sectors": _compare(
                    await deliveries_report(conn, names, ("sector",), one(key)),
                    await deliveries_report(conn, names, ("sector",), one(before)),
                    "sector",
                ),
                "sites": _compare(
                    await deliveries_report(conn, names, ("site",), one(key)),
                    await deliveries_report(conn, names, ("site",), one(before)),
                    "site_id",
                ),
                "months": await deliveries_report(conn, names, ("month",), chart),
                "money": totals(by_partner),
                # the same rows as /v1/reports/pledges?view=months&from=last&to=this
                "money_months": await month_rows(
                    conn, names, Period(calendar=ui.calendar, first=before, last=key), own
                ),
                "open": open_rows,
                "directory": await directory(conn, names),
            }

        answer = await reader.read_at(OVERVIEW_PROJECTIONS, query, at)
        body = answer.body
        overdue = [r for r in body["open"] if r["overdue"]]
        events = None
        if principal.role in OVERSEERS:
            events = await latest_events(request.app.state.pool, 10, answer.as_of_position)
        month_keys = [first_chart]
        while month_keys[-1] != key:
            month_keys.append(next_month(month_keys[-1]))
        found = {r["month"]: r["total"] for r in body["months"]}
        series = [(ui.month(m), found.get(format_month(m), 0)) for m in month_keys]
        if key == current:
            series[-1] = (f"{series[-1][0]} ({ui.t('so_far')})", series[-1][1])
        month_label = ui.month(key) + (f" ({ui.t('so_far')})" if key == current else "")
        money_months = compare_months(body["money_months"], format_month(key), format_month(before))
        return await page(
            request,
            "overview.html",
            "nav_overview",
            as_of=answer.as_of_position,
            at=at,
            tables=_overview_tables(ui, body, money_months, events, key, before),
            month=key,
            own=own,
            month_label=month_label,
            last_label=ui.month(before),
            chosen_because=chosen_because,
            in_progress=key == current,
            current=current,
            current_text=format_month(current),
            current_totals=body["current"],
            months=month_choices(ui, current),
            month_text=format_month(key),
            previous=format_month(before),
            following=format_month(next_month(key)),
            last=before,
            totals=body["totals"],
            sectors=body["sectors"],
            sites=body["sites"],
            money=body["money"],
            money_months=money_months,
            open_count=len(body["open"]),
            overdue=overdue,
            events=events,
            names=body["directory"],
            month_chart=charts.columns(series, ui, ui.t("by_month")),
            # a month just begun has nothing to draw yet: then the month before it
            chart_month=key if body["totals"][0]["total"] else before,
            sector_chart=charts.bars(
                [
                    (ui.sector(r["key"]), r["this"] if body["totals"][0]["total"] else r["last"])
                    for r in body["sectors"]
                ],
                ui,
                ui.t("by_sector"),
            ),
        )

    @get("/who-what-where", opt=SHAREABLE)
    async def who_what_where_page(
        self, request: Request[Any, Any, Any], to: FromQuery[str | None] = None
    ) -> Response[Any]:
        viewer(request)
        ui = locale_of(request)
        at = asked_position(request)
        # partners, sectors and sites repeat in the address: a view to share
        shown = read_view(request, ui, _period(ui, request.query_params.get("from"), to))
        filters = shown.filters

        async def query(conn: Conn, names: Any) -> dict[str, Any]:
            return {
                "rows": await who_what_where(conn, names, filters),
                "directory": await directory(conn, names),
            }

        reader: ReportReader = request.app.state.reports
        answer = await reader.read_at(("directory", "deliveries"), query, at)
        rows = answer.body["rows"]
        sums = {c: sum(r[c] for r in rows) for c in ("women", "men", "girls", "boys", "other")}
        sums["total"] = sum(r["total"] for r in rows)
        sums["deliveries"] = sum(r["deliveries"] for r in rows)
        return await page(
            request,
            "who_what_where.html",
            "nav_www",
            as_of=answer.as_of_position,
            at=at,
            tables={"www": Table(formats.who_what_where_columns(), rows)},
            rows=rows,
            sums=sums,
            names=answer.body["directory"],
            sectors=[code.code for code in SECTORS],
            example_month=ui.digits(format_month(month_key(today_in_tehran(), ui.calendar))),
            months=month_choices(ui, month_key(today_in_tehran(), ui.calendar)),
            view=shown,
            choices=choices(ui, answer.body["directory"]),
        )

    @get("/pledges")
    async def pledges_page(
        self, request: Request[Any, Any, Any], partner: PartnerChoice = None
    ) -> Response[Any]:
        viewer(request)
        ui = locale_of(request)
        at = asked_position(request)
        chosen = _blank(partner)
        period = Period(calendar=ui.calendar)

        async def query(conn: Conn, names: Any) -> dict[str, Any]:
            by_partner = await partner_rows(conn, names, period, chosen)
            return {
                "rows": await pledge_rows(conn, names, period, chosen),
                "totals": totals(by_partner),
                "by_partner": by_partner,
                "directory": await directory(conn, names),
            }

        reader: ReportReader = request.app.state.reports
        answer = await reader.read_at(("directory", "pledges"), query, at)
        body = answer.body
        committed = [r for r in body["by_partner"] if r["status"] == "committed"]
        rows, pager = paginate(request, body["rows"])
        money = body["totals"]
        return await page(
            request,
            "pledges.html",
            "nav_pledges",
            as_of=answer.as_of_position,
            at=at,
            tables={
                "money-totals": Table(
                    tables.MONEY_TOTALS, [{**r, "status": "committed"} for r in money["committed"]]
                ),
                "money-totals-apart": Table(
                    tables.MONEY_TOTALS,
                    [{**r, "status": s} for s in ("uncommitted", "cancelled") for r in money[s]],
                ),
                "pledges": Table(
                    tables.NAMED_PLEDGES,
                    named(rows, ui, body["directory"], site=None, sector=None),
                ),
            },
            rows=rows,
            pager=pager,
            totals=body["totals"],
            names=body["directory"],
            chosen=chosen or "",
            # the amounts, not only a share: pledged, committed and disbursed side by side
            money_charts=money_charts(
                money_rows(body["by_partner"], ()), body["directory"], ui, ui.t("trend_money")
            ),
            chart=charts.fulfilment(
                [
                    (
                        f"{ui.name(*body['directory'].partner(r['partner_id']))} ({r['currency']})",
                        r["fulfilment_percent"],
                    )
                    for r in committed
                ],
                ui,
                ui.t("fulfilment_chart"),
            ),
        )

    @get("/commitments")
    async def commitments_page(
        self,
        request: Request[Any, Any, Any],
        status: FromQuery[str | None] = None,
        owner: PartnerChoice = None,
    ) -> Response[Any]:
        viewer(request)
        ui = locale_of(request)
        at = asked_position(request)
        chosen_status = _blank(status)
        if chosen_status not in (None, "open", "overdue", "fulfilled", "withdrawn"):
            raise ValidationException(f"no status {chosen_status!r}")
        chosen_owner = _blank(owner)
        day = today_in_tehran()

        async def query(conn: Conn, names: Any) -> dict[str, Any]:
            meetings = await conn.fetch(
                f"SELECT meeting_id, title_fa, title_en, held_on FROM {names['meetings']}"
            )
            return {
                "rows": await commitment_rows(
                    conn, names, on=day, status=chosen_status, owner=chosen_owner
                ),
                "directory": await directory(conn, names),
                "meetings": {str(m["meeting_id"]): dict(m) for m in meetings},
            }

        reader: ReportReader = request.app.state.reports
        answer = await reader.read_at(("directory", "commitments", "partner_record"), query, at)
        # overdue first, longest overdue on top; then the rest by due date
        rows = sorted(
            answer.body["rows"],
            key=lambda r: (not r["overdue"], -(r["days_overdue"] or 0), r["due_on"]),
        )
        rows, pager = paginate(request, rows)
        shown = named(
            rows, ui, answer.body["directory"], partner="owner_partner_id", site=None, sector=None
        )
        return await page(
            request,
            "commitments.html",
            "nav_commitments",
            as_of=answer.as_of_position,
            at=at,
            tables={"commitments": Table(tables.NAMED_COMMITMENTS, shown)},
            rows=rows,
            pager=pager,
            names=answer.body["directory"],
            meetings=answer.body["meetings"],
            chosen={"status": chosen_status or "", "owner": chosen_owner or ""},
        )
