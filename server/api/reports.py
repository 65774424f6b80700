"""`/v1/reports/...`: the coordinators' reports, read from the projections.

Every report answers `?at_position=N` (as the log stood then), `?min_position=P`
(wait, briefly, until it reflects P), `?format=json|csv|hxl`, and periods as months
`?from=&to=` in `?calendar=gregorian|jalali`."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import PermissionDeniedException
from litestar.params import QueryParameter

from schemas.common import Sector
from server.api.parameters import MONTH, position, slug
from server.api.problems import problem_response
from server.auth.middleware import READERS, principal_of
from server.auth.permissions import may_read_record
from server.projections import formats
from server.projections.commitments import STATUSES as COMMITMENT_STATUSES
from server.projections.commitments import commitment_rows, today_in_tehran
from server.projections.deliveries import GROUPS, Filters, deliveries_rows
from server.projections.model import Conn
from server.projections.partner_record import partner_record
from server.projections.periods import Period, PeriodError, parse_period
from server.projections.pledge_months import month_rows, month_totals
from server.projections.pledges import partner_rows, pledge_rows, totals
from server.projections.reading import Answer, NotCaughtUp, PositionBeyondHead, ReportReader
from server.projections.who_what_where import who_what_where

T = TypeVar("T")

FORMATS = ("json", "csv", "hxl")
PLEDGE_VIEWS: Mapping[str, formats.Columns] = {
    "pledges": formats.PLEDGES,
    "partners": formats.PLEDGES_BY_PARTNER,
    "months": formats.PLEDGES_BY_MONTH,
}
# litestar adds `; charset=utf-8` to a text/ media type: naming it here sent it twice
CSV = "text/csv"

# the query parameters every report shares
AtPosition = Annotated[
    int | None, position("The report as it stood when the log ended at this position.")
]
MinPosition = Annotated[
    int | None,
    position(
        "Wait (up to a few seconds) until the report reflects this position, e.g. the "
        "`position` of your receipt; 503 with Retry-After if it does not in time. Not "
        "with `at_position`.",
        minimum=1,
    ),
]
Format = Annotated[
    Literal["json", "csv", "hxl"] | None, QueryParameter(description="json (default), csv or hxl")
]
CalendarParam = Annotated[
    Literal["gregorian", "jalali"] | None,
    QueryParameter(description="gregorian (default) or jalali"),
]
_MONTHS = (
    " In the chosen calendar: a Gregorian year is 1900-2200, a Jalali one 1300-1500; "
    "`from` may not come after `to`."
)
From = Annotated[
    str | None,
    QueryParameter(name="from", pattern=MONTH, description="First month, YYYY-MM." + _MONTHS),
]
To = Annotated[
    str | None, QueryParameter(pattern=MONTH, description="Last month, YYYY-MM." + _MONTHS)
]
PartnerFilter = Annotated[str | None, slug("Only this partner's rows (a partner_id).")]
SiteFilter = Annotated[str | None, slug("Only this site's rows (a site_id).")]
SectorFilter = Annotated[Sector | None, QueryParameter(description="Only this sector's rows.")]
GROUP_BY = r"^ *(partner|site|sector|month)? *(, *(partner|site|sector|month)? *)*$"


class BadParameter(Exception):
    pass


def _format(value: str | None) -> str:
    chosen = value or "json"
    if chosen not in FORMATS:
        raise BadParameter(f"format must be one of {', '.join(FORMATS)}, not {chosen!r}")
    return chosen


def _period(calendar: str | None, first: str | None, last: str | None) -> Period:
    try:
        return parse_period(calendar, first, last)
    except PeriodError as exc:
        raise BadParameter(str(exc)) from None


async def _answer(
    state: State,
    report: str,
    query: Callable[[Conn, Any], Awaitable[T]],
    at_position: int | None,
    min_position: int | None,
) -> Answer[T]:
    if at_position is not None and min_position is not None:
        raise BadParameter("at_position and min_position cannot be used together")
    reader: ReportReader = state.reports
    return await reader.read(report, query, at=at_position, min_position=min_position)


def _respond(
    answer: Answer[Any],
    body: dict[str, Any],
    fmt: str,
    rows: Sequence[Mapping[str, Any] | msgspec.Struct],
    columns: formats.Columns,
    filename: str,
) -> Response[Any]:
    headers = {"X-As-Of-Position": str(answer.as_of_position)}
    if fmt == "json":
        document = {"as_of_position": answer.as_of_position, **body}
        if answer.warnings:
            document["warnings"] = answer.warnings
        return Response(document, headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    text = formats.to_csv(rows, columns, hxl=fmt == "hxl")
    return Response(text, media_type=CSV, headers=headers)


def _problem(exc: Exception) -> Response[Any]:
    if isinstance(exc, BadParameter | PositionBeyondHead):
        return problem_response(400, "bad-report-parameter", "Bad report parameter", str(exc))
    assert isinstance(exc, NotCaughtUp)
    return problem_response(
        503,
        "projection-behind",
        "Report not caught up",
        str(exc),
        retry_after=5 if exc.stopped else 1,
    )


async def _guarded(work: Callable[[], Awaitable[Response[Any]]]) -> Response[Any]:
    try:
        return await work()
    except (BadParameter, PositionBeyondHead, NotCaughtUp) as exc:
        return _problem(exc)


class ReportsController(Controller):
    """Reports for coordinators, auditors and partners."""

    # every role reads the shared reports, as a 3W is shared; a partner reads its own
    # record only (its own streams are guarded in the events API)
    path = "/v1/reports"
    tags = ["reports"]
    guards = [READERS]

    @get(
        "/who-what-where",
        operation_id="reportWhoWhatWhere",
        summary="Who does what where (3W/4W)",
    )
    async def who_what_where(
        self,
        state: State,
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
        """Partner x sector x site: activities, deliveries and beneficiary contacts
        (women, men, girls, boys, other, total) over the months asked. A delivery
        counts in the month its period ends. `?format=hxl` adds HXL hashtags."""

        async def work() -> Response[Any]:
            fmt = _format(format)
            filters = Filters(
                period=_period(calendar, from_, to), partner=partner, site=site, sector=sector
            )
            answer = await _answer(
                state,
                "who-what-where",
                partial(_www, filters=filters),
                at_position,
                min_position,
            )
            body = {"period": filters.period.describe(), "rows": answer.body}
            columns = formats.who_what_where_columns()
            return _respond(answer, body, fmt, answer.body, columns, "who-what-where")

        return await _guarded(work)

    @get("/deliveries", operation_id="reportDeliveries", summary="Beneficiaries by group")
    async def deliveries(
        self,
        state: State,
        group_by: Annotated[
            str | None,
            QueryParameter(
                pattern=GROUP_BY,
                max_length=100,
                description="Any of partner,site,sector,month, comma-separated; default all.",
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
        """Beneficiary contacts (women, men, girls, boys, other, total) and the number of
        deliveries, grouped by any of partner, site, sector and month (`group_by=`
        empty: one line of totals). Counts are contacts, not unique people."""

        async def work() -> Response[Any]:
            fmt = _format(format)
            groups = _groups(group_by)
            filters = Filters(
                period=_period(calendar, from_, to), partner=partner, site=site, sector=sector
            )

            async def query(conn: Conn, names: Any) -> list[msgspec.Struct]:
                return await deliveries_rows(conn, names, groups, filters)

            answer = await _answer(state, "deliveries", query, at_position, min_position)
            body = {"period": filters.period.describe(), "group_by": groups, "rows": answer.body}
            columns = formats.delivery_columns(groups)
            return _respond(answer, body, fmt, answer.body, columns, "deliveries")

        return await _guarded(work)

    @get("/pledges", operation_id="reportPledges", summary="Pledges, commitments, disbursements")
    async def pledges(
        self,
        state: State,
        view: Annotated[
            Literal["pledges", "partners", "months"] | None,
            QueryParameter(description="pledges (default), partners or months"),
        ] = None,
        partner: PartnerFilter = None,
        calendar: CalendarParam = None,
        from_: From = None,
        to: To = None,
        at_position: AtPosition = None,
        min_position: MinPosition = None,
        format: Format = None,
    ) -> Response[Any]:
        """Per pledge (`view=pledges`) or per partner, currency and status
        (`view=partners`): pledged, committed, disbursed, outstanding and fulfilment %,
        money as decimal strings in the pledge's currency (IRR in rials). `totals`
        adds up committed pledges only; uncommitted and cancelled ones are totalled
        apart. The period selects pledges whose own period overlaps it.

        `view=months`: per month, currency and status, what was pledged (pledges
        recorded that month, Tehran time, at their amount as last amended) and what was
        disbursed (by each disbursement's `disbursed_on`); the period selects the
        months, in the chosen calendar, and `totals` adds up the committed ones."""

        async def work() -> Response[Any]:
            fmt = _format(format)
            chosen = view or "pledges"
            if chosen not in PLEDGE_VIEWS:
                raise BadParameter(f"view must be pledges, partners or months, not {chosen!r}")
            period = _period(calendar, from_, to)

            async def query(conn: Conn, names: Any) -> dict[str, Any]:
                if chosen == "months":
                    by_month = await month_rows(conn, names, period, partner)
                    return {"rows": by_month, **month_totals(by_month)}
                by_partner = await partner_rows(conn, names, period, partner)
                rows = (
                    by_partner
                    if chosen == "partners"
                    else await pledge_rows(conn, names, period, partner)
                )
                return {"rows": rows, **totals(by_partner)}

            answer = await _answer(state, "pledges", query, at_position, min_position)
            sums = {k: v for k, v in answer.body.items() if k != "rows"}
            body = {
                "period": period.describe(),
                "view": chosen,
                "rows": answer.body["rows"],
                "totals": sums.pop("committed"),
                **sums,
            }
            columns = PLEDGE_VIEWS[chosen]
            return _respond(answer, body, fmt, answer.body["rows"], columns, "pledges")

        return await _guarded(work)

    @get("/commitments", operation_id="reportCommitments", summary="Commitments and their state")
    async def commitments(
        self,
        state: State,
        status: Annotated[
            Literal["open", "overdue", "fulfilled", "withdrawn"] | None,
            QueryParameter(description="open, overdue, fulfilled or withdrawn"),
        ] = None,
        owner: Annotated[str | None, slug("Only commitments this partner owns.")] = None,
        on: Annotated[
            datetime.date | None,
            QueryParameter(description="The day overdue is judged on; default today in Tehran."),
        ] = None,
        calendar: CalendarParam = None,
        from_: From = None,
        to: To = None,
        at_position: AtPosition = None,
        min_position: MinPosition = None,
        format: Format = None,
    ) -> Response[Any]:
        """Commitments due in the period (all when none is given). `overdue`: open and
        due before today in Asia/Tehran (or `on`); `open` includes the overdue ones,
        each row says which."""

        async def work() -> Response[Any]:
            fmt = _format(format)
            if status is not None and status not in COMMITMENT_STATUSES:
                raise BadParameter(f"status must be one of {', '.join(COMMITMENT_STATUSES)}")
            period = _period(calendar, from_, to)
            day = on or today_in_tehran()

            async def query(conn: Conn, names: Any) -> list[dict[str, Any]]:
                return await commitment_rows(
                    conn, names, on=day, status=status, owner=owner, period=period
                )

            answer = await _answer(state, "commitments", query, at_position, min_position)
            body = {"period": period.describe(), "on": day.isoformat(), "rows": answer.body}
            return _respond(answer, body, fmt, answer.body, formats.COMMITMENTS, "commitments")

        return await _guarded(work)

    @get(
        "/partners/{partner_id:str}",
        operation_id="reportPartnerRecord",
        summary="One partner's record",
    )
    async def partner(
        self,
        request: Request[Any, Any, Any],
        state: State,
        partner_id: Annotated[str, slug("The partner's id.", path=True)],
        on: Annotated[
            datetime.date | None, QueryParameter(description="Day overdue is judged on.")
        ] = None,
        calendar: CalendarParam = None,
        from_: From = None,
        to: To = None,
        at_position: AtPosition = None,
        min_position: MinPosition = None,
        format: Format = None,
    ) -> Response[Any]:
        """What a partner presents at a meeting: its deliveries by site, sector and month
        (`rows`, the part `?format=csv` exports), its pledges, its commitments, the
        challenges it reported and the meetings it attended, for the period. A partner
        token reads its own record only: another's is 403, registered or not."""
        # before anything is read: the answer must not say whether the partner exists
        if not may_read_record(principal_of(request), partner_id):
            raise PermissionDeniedException(
                f"a partner token reads its own record only, not {partner_id!r}'s"
            )

        async def work() -> Response[Any]:
            fmt = _format(format)
            filters = Filters(period=_period(calendar, from_, to))
            day = on or today_in_tehran()

            async def query(conn: Conn, names: Any) -> dict[str, Any] | None:
                return await partner_record(conn, names, partner_id, filters, day)

            answer = await _answer(state, "partner", query, at_position, min_position)
            if answer.body is None:
                return problem_response(
                    404, "not-found", "Not found", f"no partner {partner_id!r} is registered"
                )
            rows = answer.body["rows"]
            columns = formats.delivery_columns(("site", "sector", "month"))
            return _respond(answer, answer.body, fmt, rows, columns, f"partner-{partner_id}")

        return await _guarded(work)


async def _www(conn: Conn, names: Any, *, filters: Filters) -> list[dict[str, Any]]:
    return await who_what_where(conn, names, filters)


def _groups(group_by: str | None) -> list[str]:
    if group_by is None:
        return list(GROUPS)
    chosen = [g.strip() for g in group_by.split(",") if g.strip()]
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown:
        raise BadParameter(f"group_by takes {', '.join(GROUPS)}; not {', '.join(unknown)}")
    return [g for g in GROUPS if g in chosen]
