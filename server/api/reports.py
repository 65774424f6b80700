"""`/v1/reports/...`: the coordinators' reports, read from the projections.

Every report answers `?at_position=N` (as the log stood then), `?min_position=P`
(wait, briefly, until it reflects P), `?format=json|csv|hxl`, and periods as months
`?from=&to=` in `?calendar=gregorian|jalali`."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import PermissionDeniedException
from litestar.params import Parameter, QueryParameter

from schemas.common import Sector
from server.api.parameters import MONTH, position, slug
from server.api.problems import problem_response
from server.audit.attestation import Attestation, code_of, normal_code, read_statement
from server.audit.attestations import attest_report
from server.audit.attestations import find as find_attestation
from server.auth.middleware import READERS, principal_of
from server.auth.permissions import may_read_record
from server.projections import formats
from server.projections.catalog import REPORTS
from server.projections.commitments import today_in_tehran
from server.projections.model import Conn
from server.projections.reading import Answer, NotCaughtUp, PositionBeyondHead, ReportReader
from server.projections.report_bodies import (
    BadParameter,
    Body,
    Params,
    TableSource,
    build,
    commitments_params,
    content,
    deliveries_params,
    partner_params,
    pledges_params,
    www_params,
)
from server.projections.tracking import standings

FORMATS = ("json", "csv", "hxl")
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


Attest = Annotated[
    bool | None,
    QueryParameter(
        description=(
            "true: sign a statement that these are the log's figures (report, parameters, "
            "as_of_position, the log's Merkle root there, SHA-256 of the content, time) with "
            "the log's key. JSON carries it as `attestation`; CSV and HXL stay as they are "
            "and name it in the `Hamkari-Attestation` header and a `Link` to "
            "/v1/reports/attestations/{code} (the sidecar file)."
        )
    ),
]
# an attested live read whose projections stood at different positions is read again,
# after waiting for the furthest, this many times before it is folded at the lowest
_SETTLE_TRIES = 3


def _format(value: str | None) -> str:
    chosen = value or "json"
    if chosen not in FORMATS:
        raise BadParameter(f"format must be one of {', '.join(FORMATS)}, not {chosen!r}")
    return chosen


async def _read(
    state: State,
    report: str,
    params: Params,
    at_position: int | None,
    min_position: int | None,
    settle: bool,
) -> Answer[Body]:
    if at_position is not None and min_position is not None:
        raise BadParameter("at_position and min_position cannot be used together")
    reader: ReportReader = state.reports

    async def query(conn: Conn, names: Any) -> Body:
        return await build(TableSource(conn, names), report, params)

    answer = await reader.read(report, query, at=at_position, min_position=min_position)
    tries = 0
    while settle and not answer.settled:
        # an attestation signs one position: a live answer whose projections stood apart
        # mixes two; wait for the furthest and read again, else fold at the lowest
        names = REPORTS[report]
        tries += 1
        if tries > _SETTLE_TRIES:
            return await reader.read_at(names, query, answer.as_of_position)
        found = await standings(reader.pool, names)
        with contextlib.suppress(NotCaughtUp):
            await reader.wait_for(names, max(s.position for s in found.values()))
        answer = await reader.read_live(names, query)
    return answer


async def report_response(
    state: State,
    report: str,
    params: Params,
    *,
    fmt: str | None,
    attest: bool | None,
    at_position: int | None,
    min_position: int | None,
) -> Response[Any]:
    """The report `report` with `params`: JSON, CSV or HXL, attested when asked."""
    chosen = _format(fmt)
    answer = await _read(state, report, params, at_position, min_position, bool(attest))
    body = answer.body
    if body.document is None:
        detail = f"no partner {params.get('partner_id')!r} is registered"
        return problem_response(404, "not-found", "Not found", detail)
    headers = {"X-As-Of-Position": str(answer.as_of_position)}
    attestation = None
    if attest:
        pool = state.pool
        attestation = await attest_report(
            pool,
            state.checkpointer.signer,
            report=report,
            parameters=params,
            as_of_position=answer.as_of_position,
            content=content(body.document),
        )
        headers["Hamkari-Attestation"] = attestation.code
        headers["Link"] = (
            f'</v1/reports/attestations/{attestation.code}>; rel="describedby";'
            ' type="application/json"'
        )
    if chosen == "json":
        document = {"as_of_position": answer.as_of_position, **body.document}
        if answer.warnings:
            document["warnings"] = answer.warnings
        if attestation is not None:
            document["attestation"] = attestation
        return Response(document, headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{body.filename}.csv"'
    text = formats.to_csv(body.rows, body.columns, hxl=chosen == "hxl")
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


async def guarded(work: Callable[[], Awaitable[Response[Any]]]) -> Response[Any]:
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
        attest: Attest = None,
    ) -> Response[Any]:
        """Partner x sector x site: activities, deliveries and beneficiary contacts
        (women, men, girls, boys, other, total) over the months asked. A delivery
        counts in the month its period ends. `?format=hxl` adds HXL hashtags."""

        async def work() -> Response[Any]:
            params = www_params(
                partner=partner, site=site, sector=sector, calendar=calendar, first=from_, last=to
            )
            return await report_response(
                state,
                "who-what-where",
                params,
                fmt=format,
                attest=attest,
                at_position=at_position,
                min_position=min_position,
            )

        return await guarded(work)

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
        attest: Attest = None,
    ) -> Response[Any]:
        """Beneficiary contacts (women, men, girls, boys, other, total) and the number of
        deliveries, grouped by any of partner, site, sector and month (`group_by=`
        empty: one line of totals). Counts are contacts, not unique people."""

        async def work() -> Response[Any]:
            params = deliveries_params(
                group_by=group_by,
                partner=partner,
                site=site,
                sector=sector,
                calendar=calendar,
                first=from_,
                last=to,
            )
            return await report_response(
                state,
                "deliveries",
                params,
                fmt=format,
                attest=attest,
                at_position=at_position,
                min_position=min_position,
            )

        return await guarded(work)

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
        attest: Attest = None,
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
            params = pledges_params(
                view=view, partner=partner, calendar=calendar, first=from_, last=to
            )
            return await report_response(
                state,
                "pledges",
                params,
                fmt=format,
                attest=attest,
                at_position=at_position,
                min_position=min_position,
            )

        return await guarded(work)

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
        attest: Attest = None,
    ) -> Response[Any]:
        """Commitments due in the period (all when none is given). `overdue`: open and
        due before today in Asia/Tehran (or `on`); `open` includes the overdue ones,
        each row says which."""

        async def work() -> Response[Any]:
            params = commitments_params(
                status=status,
                owner=owner,
                on=on,
                today=today_in_tehran(),
                calendar=calendar,
                first=from_,
                last=to,
            )
            return await report_response(
                state,
                "commitments",
                params,
                fmt=format,
                attest=attest,
                at_position=at_position,
                min_position=min_position,
            )

        return await guarded(work)

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
        attest: Attest = None,
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
            params = partner_params(
                partner_id=partner_id,
                on=on,
                today=today_in_tehran(),
                calendar=calendar,
                first=from_,
                last=to,
            )
            return await report_response(
                state,
                "partner",
                params,
                fmt=format,
                attest=attest,
                at_position=at_position,
                min_position=min_position,
            )

        return await guarded(work)


def _attestation_body(attestation: Attestation) -> dict[str, Any]:
    return {"attestation": attestation}


class AttestationsController(Controller):
    """Report attestations the server signed, found again by their short code."""

    path = "/v1/reports/attestations"
    tags = ["reports"]
    guards = [READERS]

    @get(
        "/{code:str}",
        operation_id="reportAttestation",
        summary="A signed report attestation, by its code",
    )
    async def attestation(
        self,
        request: Request[Any, Any, Any],
        state: State,
        code: Annotated[
            str,
            Parameter(
                description="The short code (XXXX-XXXX-XXXX-XXXX; any case, dashes optional).",
                max_length=40,
            ),
        ],
    ) -> Response[Any]:
        """The attestation with this code, as a report's `attestation` member: the sidecar
        of an attested CSV or HXL file, and what `hamkari audit verify-report` reads. A
        partner token finds its own record's attestations and the shared reports', not
        another partner's record's (404, as for a code never issued)."""
        normal = normal_code(code)
        found = None if normal is None else await find_attestation(state.pool, normal)
        about = None if found is None else found[1]
        if found is None or (
            about is not None and not may_read_record(principal_of(request), about)
        ):
            return problem_response(
                404, "not-found", "Not found", f"no report attestation has code {code!r}"
            )
        note = found[0]
        attestation = Attestation(statement=read_statement(note), note=note, code=code_of(note))
        return Response(
            _attestation_body(attestation),
            headers={
                "Content-Disposition": f'attachment; filename="attestation-{attestation.code}.json"'
            },
        )
