"""The gaps page (a site × sector matrix: how many partners reached how many people in
each cell, the empty cells marked as gaps) and the trends page (beneficiaries by month
per sector, site and partner; pledged, committed and disbursed per partner and
currency), both over a shareable view (`server/web/views.py`).

They read the deliveries' month totals and the pledges through the same functions and
the same snapshot as the JSON reports, in the reader's calendar."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromQuery

from server.projections import formats
from server.projections.commitments import today_in_tehran
from server.projections.deliveries import MONTH_TOTALS, deliveries_report, where
from server.projections.model import Conn
from server.projections.periods import Period, format_month, month_key, next_month
from server.projections.pledges import partner_rows
from server.projections.reading import ReportReader
from server.web import charts
from server.web.directory import Directory, directory
from server.web.downloads import PARTNER_NAME, SECTOR_NAME, SITE_NAME, Table, named
from server.web.frame import asked_position, locale_of, page, viewer
from server.web.i18n import Locale
from server.web.money_charts import money_charts, money_rows
from server.web.reports import _period, month_choices, previous_month
from server.web.views import SECTOR_CODES, SHAREABLE, View, choices, read_view

#: a trend chart draws the largest series and sums the rest as "others"
SERIES_DRAWN = 7
TREND_MONTHS = 12


def _months(period: Period) -> list[int]:
    keys = [period.first] if period.first is not None else []
    while keys and period.last is not None and keys[-1] < period.last:
        keys.append(next_month(keys[-1]))
    return [k for k in keys if k is not None]


def _trend_period(period: Period, current: int) -> Period:
    """The months a trend covers: as asked, with a missing end filled in (this month;
    twelve months back from the end)."""
    last = period.last if period.last is not None else current
    first = period.first
    if first is None:
        first = last
        for _ in range(TREND_MONTHS - 1):
            first = previous_month(first)
    if first > last:
        first, last = last, first
    return Period(calendar=period.calendar, first=first, last=last)


def _gap_columns(sectors: tuple[str, ...]) -> formats.Columns:
    per_sector: list[tuple[str, str]] = []
    for code in sectors:
        per_sector.append((f"{code}_partners", f"#org+num+{code}"))
        per_sector.append((f"{code}_reached", f"#reached+total+{code}"))
    return (("site_id", "#loc+code"), SITE_NAME, *per_sector, ("gaps", "#meta+gaps+num"))


async def _cells(conn: Conn, names: Mapping[str, str], view: View) -> list[dict[str, Any]]:
    """(site, sector) -> partners that delivered there and the contacts they reached."""
    filters = view.filters
    condition, args = where(filters)
    table = names[MONTH_TOTALS[filters.period.calendar]]
    joined = f"{condition} AND" if condition else " WHERE"
    records = await conn.fetch(
        f"SELECT c.site_id, c.sector, count(DISTINCT c.partner_id) AS partners,"
        f" coalesce(sum(c.total::float8), 0)::bigint AS total"
        f" FROM {table} c{joined} c.deliveries > 0 GROUP BY c.site_id, c.sector",
        *args,
    )
    return [dict(r) for r in records]


def gap_rows(
    cells: list[dict[str, Any]], names: Directory, view: View, ui: Locale
) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """One row per site (those chosen, or every registered one and any with deliveries),
    a (partners, reached) pair per sector; a pair of zeros is a gap."""
    sectors = view.sectors or SECTOR_CODES
    found = {(c["site_id"], c["sector"]): c for c in cells}
    sites = list(view.sites) or sorted({*names.sites, *(c["site_id"] for c in cells)})
    rows = []
    for site in sites:
        row: dict[str, Any] = {"site_id": site, "site_name": ui.name(*names.site(site))}
        gaps = 0
        for code in sectors:
            cell = found.get((site, code))
            row[f"{code}_partners"] = cell["partners"] if cell else 0
            row[f"{code}_reached"] = cell["total"] if cell else 0
            gaps += cell is None
        row["gaps"] = gaps
        rows.append(row)
    return rows, sectors


def _series(rows: list[dict[str, Any]], key: str, months: list[int]) -> list[tuple[str, list[int]]]:
    """key -> beneficiaries in each month, largest over the months first."""
    values: dict[str, dict[str, int]] = {}
    for r in rows:
        values.setdefault(r[key], {})[r["month"]] = r["total"]
    texts = [format_month(m) for m in months]
    series = [(k, [v.get(t, 0) for t in texts]) for k, v in values.items()]
    return sorted(series, key=lambda s: (-sum(s[1]), s[0]))


def _drawn(series: list[tuple[str, list[int]]], ui: Locale) -> list[tuple[str, list[int]]]:
    if len(series) <= SERIES_DRAWN + 1:
        return series
    rest = series[SERIES_DRAWN:]
    others = [sum(values[i] for _, values in rest) for i in range(len(rest[0][1]))]
    return [*series[:SERIES_DRAWN], (ui.t("others"), others)]


def _trend_columns(key: tuple[str, str], name: tuple[str, str], months: list[int]) -> Any:
    by_month = tuple(
        (format_month(m), f"#reached+total+m{format_month(m).replace('-', '_')}") for m in months
    )
    return (key, name, *by_month, ("total", "#reached+total"))


class AnalysisPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/gaps", opt=SHAREABLE)
    async def gaps(
        self, request: Request[Any, Any, Any], to: FromQuery[str | None] = None
    ) -> Response[Any]:
        viewer(request)
        ui = locale_of(request)
        at = asked_position(request)
        view = read_view(request, ui, _period(ui, request.query_params.get("from"), to))
        current = month_key(today_in_tehran(), ui.calendar)

        async def query(conn: Conn, names: Any) -> dict[str, Any]:
            return {
                "cells": await _cells(conn, names, view),
                "directory": await directory(conn, names),
            }

        reader: ReportReader = request.app.state.reports
        answer = await reader.read_at(("directory", "deliveries"), query, at)
        names = answer.body["directory"]
        rows, sectors = gap_rows(answer.body["cells"], names, view, ui)
        return await page(
            request,
            "gaps.html",
            "nav_gaps",
            as_of=answer.as_of_position,
            at=at,
            tables={"gaps": Table(_gap_columns(sectors), rows)},
            rows=rows,
            sectors=sectors,
            gap_count=sum(r["gaps"] for r in rows),
            names=names,
            view=view,
            choices=choices(ui, names),
            months=month_choices(ui, current),
            example_month=ui.digits(format_month(current)),
        )

    @get("/trends", opt=SHAREABLE)
    async def trends(
        self, request: Request[Any, Any, Any], to: FromQuery[str | None] = None
    ) -> Response[Any]:
        viewer(request)
        ui = locale_of(request)
        at = asked_position(request)
        current = month_key(today_in_tehran(), ui.calendar)
        asked = read_view(request, ui, _period(ui, request.query_params.get("from"), to))
        period = _trend_period(asked.filters.period, current)
        filters = msgspec.structs.replace(asked.filters, period=period)
        months = _months(period)

        async def query(conn: Conn, names: Any) -> dict[str, Any]:
            found = {
                group: await deliveries_report(conn, names, ("month", group), filters)
                for group in ("sector", "site", "partner")
            }
            return found | {
                "money": await partner_rows(conn, names, period, None),
                "directory": await directory(conn, names),
            }

        reader: ReportReader = request.app.state.reports
        answer = await reader.read_at(("directory", "deliveries", "pledges"), query, at)
        body, names = answer.body, answer.body["directory"]
        keys = {"sector": "sector", "site": "site_id", "partner": "partner_id"}
        named_as: dict[str, Callable[[str], str]] = {
            "sector": ui.sector,
            "site": lambda k: ui.name(*names.site(k)),
            "partner": lambda k: ui.name(*names.partner(k)),
        }
        heads = {
            "sector": (("sector", "#sector+code"), SECTOR_NAME),
            "site": (("site_id", "#loc+code"), SITE_NAME),
            "partner": (("partner_id", "#org+code"), PARTNER_NAME),
        }
        trends: dict[str, dict[str, Any]] = {}
        tables: dict[str, Table] = {}
        for group, key in keys.items():
            series = _series(body[group], key, months)
            lines = [
                {
                    key: k,
                    heads[group][1][0]: named_as[group](k),
                    **{format_month(m): v for m, v in zip(months, values, strict=True)},
                    "total": sum(values),
                    "values": values,
                }
                for k, values in series
            ]
            drawn = [(named_as[group](k), v) for k, v in series]
            trends[group] = {
                "rows": lines,
                "chart": charts.lines(months, _drawn(drawn, ui), ui, ui.t(f"trend_by_{group}")),
            }
            tables[f"by-{group}"] = Table(_trend_columns(*heads[group], months), lines)
        money = money_rows(body["money"], asked.partners)
        tables["money"] = Table(
            (
                ("partner_id", "#org+code"),
                PARTNER_NAME,
                ("currency", "#currency"),
                ("pledged", "#value+pledged"),
                ("committed", "#value+committed"),
                ("disbursed", "#value+disbursed"),
            ),
            named(money, ui, names, site=None, sector=None),
        )
        return await page(
            request,
            "trends.html",
            "nav_trends",
            as_of=answer.as_of_position,
            at=at,
            tables=tables,
            trends=trends,
            months_shown=months,
            money=money,
            money_charts=money_charts(money, names, ui, ui.t("trend_money")),
            names=names,
            view=asked,
            choices=choices(ui, names),
            months=month_choices(ui, current),
            example_month=ui.digits(format_month(current)),
            period_first=period.first,
            period_last=period.last,
        )
