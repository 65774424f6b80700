"""`/v1/reports/progress`: targets against deliveries (planned, reached, % reached) by any
of partner, sector, site and month, and reporting completeness for a month.

The shared parameters (`at_position`, `min_position`, `format`, periods) behave as in
every other report (server/api/reports.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import QueryParameter

from server.api.parameters import MONTH
from server.api.reports import (
    GROUP_BY,
    AtPosition,
    BadParameter,
    CalendarParam,
    Format,
    From,
    MinPosition,
    PartnerFilter,
    SectorFilter,
    SiteFilter,
    To,
    _answer,
    _format,
    _guarded,
    _period,
    _respond,
)
from server.auth.middleware import READERS
from server.projections import formats
from server.projections.deliveries import Filters
from server.projections.model import Conn
from server.projections.periods import PeriodError, parse_month
from server.projections.targets import GROUPS, completeness_rows, progress_rows

VIEWS = ("progress", "completeness")


def _groups(group_by: str | None) -> list[str]:
    if group_by is None:
        return list(GROUPS)
    chosen = [g.strip() for g in group_by.split(",") if g.strip()]
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown:
        raise BadParameter(f"group_by takes {', '.join(GROUPS)}; not {', '.join(unknown)}")
    return [g for g in GROUPS if g in chosen]


class ProgressController(Controller):
    """Planned vs reached, and who has not reported."""

    path = "/v1/reports"
    tags = ["reports"]
    guards = [READERS]

    @get("/progress", operation_id="reportProgress", summary="Planned vs reached; completeness")
    async def progress(
        self,
        state: State,
        group_by: Annotated[
            str | None,
            QueryParameter(
                pattern=GROUP_BY,
                max_length=100,
                description="Any of partner,sector,site,month, comma-separated; default all.",
            ),
        ] = None,
        view: Annotated[
            Literal["progress", "completeness"] | None,
            QueryParameter(description="progress (default) or completeness"),
        ] = None,
        month: Annotated[
            str | None,
            QueryParameter(
                pattern=MONTH,
                description="completeness: the month asked about, YYYY-MM (in `calendar`).",
            ),
        ] = None,
        partner: PartnerFilter = None,
        site: SiteFilter = None,
        sector: SectorFilter = None,
        calendar: CalendarParam = None,
        from_: From = None,
        to: To = None,
        at_position: AtPosition = None,
        min_position: MinPosition = None,
        format: Format = None,
    ) -> Response[Any]:
        """`view=progress`: beneficiary contacts planned by partners' targets (TargetSet)
        and reached by their deliveries, with % reached, grouped by any of partner,
        sector, site and month, over the period. A target's planned contacts are spread
        over its period by days; a target without a site is planned under `site_id`
        null. `reached_percent` is null where nothing was planned.

        `view=completeness&month=YYYY-MM`: every active partner with whether it reported
        a delivery counting in that month (`reported`), its deliveries and contacts
        there, and whether it has a target over that month (`has_target`)."""

        async def work() -> Response[Any]:
            fmt = _format(format)
            chosen = view or "progress"
            if chosen not in VIEWS:
                raise BadParameter(f"view must be progress or completeness, not {chosen!r}")
            period = _period(calendar, from_, to)
            if chosen == "completeness":
                if month is None:
                    raise BadParameter("view=completeness needs month=YYYY-MM")
                try:
                    key = parse_month(month, period.calendar)
                except PeriodError as exc:
                    raise BadParameter(str(exc)) from None

                async def complete(conn: Conn, names: Any) -> list[dict[str, Any]]:
                    return await completeness_rows(conn, names, key, period)

                answer = await _answer(state, "progress", complete, at_position, min_position)
                body: dict[str, Any] = {"view": chosen, "month": month, "rows": answer.body}
                return _respond(
                    answer, body, fmt, answer.body, formats.COMPLETENESS, "completeness"
                )
            groups = _groups(group_by)
            filters = Filters(period=period, partner=partner, site=site, sector=sector)

            async def query(conn: Conn, names: Any) -> list[dict[str, Any]]:
                return await progress_rows(conn, names, groups, filters)

            answer = await _answer(state, "progress", query, at_position, min_position)
            body = {
                "view": chosen,
                "period": period.describe(),
                "group_by": groups,
                "rows": answer.body,
            }
            columns = formats.progress_columns(groups)
            return _respond(answer, body, fmt, answer.body, columns, "progress")

        return await _guarded(work)
