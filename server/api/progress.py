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
    Attest,
    CalendarParam,
    Format,
    From,
    MinPosition,
    PartnerFilter,
    SectorFilter,
    SiteFilter,
    To,
    guarded,
    report_response,
)
from server.auth.middleware import READERS
from server.projections.report_bodies import progress_params


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
        attest: Attest = None,
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
            params = progress_params(
                view=view,
                group_by=group_by,
                month=month,
                partner=partner,
                site=site,
                sector=sector,
                calendar=calendar,
                first=from_,
                last=to,
            )
            return await report_response(
                state,
                "progress",
                params,
                fmt=format,
                attest=attest,
                at_position=at_position,
                min_position=min_position,
            )

        return await guarded(work)
