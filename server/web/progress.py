"""The progress page: planned vs reached per partner, per sector and per site over the
months chosen, and which active partners reported nothing in a month (completeness).

The figures are those of `GET /v1/reports/progress` in the reader's calendar."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery

from server.projections import formats
from server.projections.commitments import today_in_tehran
from server.projections.deliveries import Filters
from server.projections.model import Conn
from server.projections.periods import Period, format_month, month_key
from server.projections.reading import ReportReader
from server.projections.targets import completeness_rows, progress_rows
from server.web.directory import directory
from server.web.downloads import PARTNER_NAME, SECTOR_NAME, SITE_NAME, Table, named
from server.web.frame import asked_position, locale_of, page, viewer
from server.web.reports import _month, _period, month_choices, previous_month

_BY = {
    "partner": (("partner_id", "#org+impl+code"), PARTNER_NAME),
    "sector": (("sector", "#sector+code"), SECTOR_NAME),
    "site": (("site_id", "#loc+code"), SITE_NAME),
}


class ProgressPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/progress")
    async def progress(
        self,
        request: Request[Any, Any, Any],
        to: FromQuery[str | None] = None,
        month: FromQuery[str | None] = None,
    ) -> Response[Any]:
        viewer(request)
        ui = locale_of(request)
        at = asked_position(request)
        first = request.query_params.get("from")
        period = _period(ui, first, to)
        current = month_key(today_in_tehran(), ui.calendar)
        # completeness of the last complete month unless another is asked for
        asked = _month(ui, month)
        chased = asked if asked is not None else previous_month(current)

        async def query(conn: Conn, names: Any) -> dict[str, Any]:
            filters = Filters(period=period)
            return {group: await progress_rows(conn, names, (group,), filters) for group in _BY} | {
                "completeness": await completeness_rows(
                    conn, names, chased, Period(calendar=ui.calendar)
                ),
                "directory": await directory(conn, names),
            }

        reader: ReportReader = request.app.state.reports
        answer = await reader.read_at(("directory", "deliveries", "targets"), query, at)
        body = answer.body
        names = body["directory"]
        tables = {
            f"by-{group}": Table(
                (*_BY[group], *formats.progress_columns(())),
                named(body[group], ui, names, partner="partner_id" if group == "partner" else None),
            )
            for group in _BY
        }
        missing = [r for r in body["completeness"] if not r["reported"]]
        tables["completeness"] = Table(formats.COMPLETENESS, body["completeness"])
        return await page(
            request,
            "progress.html",
            "nav_progress",
            as_of=answer.as_of_position,
            at=at,
            tables=tables,
            rows=body,
            names=names,
            missing=missing,
            chased=chased,
            months=month_choices(ui, current),
            chosen={
                "from": ui.digits(format_month(period.first)) if period.first else "",
                "to": ui.digits(format_month(period.last)) if period.last else "",
                "month": ui.digits(format_month(chased)),
            },
        )
