"""One partner's record, printable on A4 for the next meeting, the list of partners, and
a meeting with what was presented and promised there. A partner sees its own record and
the meetings it attended; another partner's is 403, as in the streams API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from server.api.parameters import slug
from server.auth.tokens import Role
from server.projections.catalog import REPORTS
from server.projections.commitments import commitment_rows, today_in_tehran
from server.projections.deliveries import Filters
from server.projections.model import Conn
from server.projections.partner_record import partner_record
from server.projections.periods import month_key
from server.projections.reading import ReportReader
from server.web import charts, tables
from server.web.attestations import printed, record_params
from server.web.directory import directory
from server.web.downloads import Table, named
from server.web.frame import asked_position, locale_of, page, require_own_record, viewer
from server.web.i18n import typed_month
from server.web.report_print import by_month, country_name, issuing_office, period_text
from server.web.reports import _period, month_choices


class RecordsController(Controller):
    path = "/"
    include_in_schema = False

    @get("/partners")
    async def partners(self, request: Request[Any, Any, Any]) -> Response[Any]:
        principal = viewer(request)
        at = asked_position(request)
        if principal.role is Role.PARTNER:
            return Redirect(f"/partners/{principal.partner_id}", status_code=303)

        async def query(conn: Conn, names: Any) -> Any:
            return await directory(conn, names)

        reader: ReportReader = request.app.state.reports
        answer = await reader.read_at(("directory",), query, at)
        return await page(
            request,
            "partners.html",
            "nav_partners",
            as_of=answer.as_of_position,
            at=at,
            names=answer.body,
        )

    @get("/partners/{partner_id:str}")
    async def partner(
        self,
        request: Request[Any, Any, Any],
        partner_id: Annotated[str, slug("a partner_id", path=True)],
        to: FromQuery[str | None] = None,
    ) -> Response[Any]:
        principal = viewer(request)
        require_own_record(principal, partner_id)
        ui = locale_of(request)
        at = asked_position(request)
        first = request.query_params.get("from")
        filters = Filters(period=_period(ui, first, to))
        day = today_in_tehran()

        async def query(conn: Conn, names: Any) -> dict[str, Any] | None:
            record = await partner_record(conn, names, partner_id, filters, day)
            if record is None:
                return None
            return {
                **record,
                "directory": await directory(conn, names),
                "office": await issuing_office(conn, names),
            }

        reader: ReportReader = request.app.state.reports
        answer = await reader.read("partner", query, at=at)
        signing = "attest" in request.query_params
        if signing and not answer.settled:
            # what is signed is one position: read the record as the log stood there
            answer = await reader.read_at(REPORTS["partner"], query, answer.as_of_position)
        if answer.body is None:
            raise NotFoundException(f"no partner {partner_id!r} is registered")
        record, names = answer.body, answer.body["directory"]
        attestation = None
        if signing:
            params = record_params(partner_id, filters.period, day)
            attestation = await printed(request, params, answer.as_of_position, record)
        query_now = [(k, v) for k, v in request.query_params.multi_items() if k != "attest"]
        attest_link = f"{request.url.path}?{urlencode([*query_now, ('attest', '1')])}"
        money = record["pledges"]["totals"]["committed"]
        months = by_month(record["rows"])
        return await page(
            request,
            "partner.html",
            "nav_partners",
            as_of=answer.as_of_position,
            at=at,
            tables={
                "deliveries": Table(
                    tables.PARTNER_DELIVERIES,
                    named([r for _, rows, _ in months for r in rows], ui, names, partner=None),
                ),
                "money-totals": Table(
                    tables.MONEY_TOTALS, [{**r, "status": "committed"} for r in money]
                ),
                "pledges": Table(
                    tables.NAMED_PLEDGES,
                    named(record["pledges"]["rows"], ui, names, site=None, sector=None),
                ),
                "commitments": Table(
                    tables.NAMED_COMMITMENTS,
                    named(
                        record["commitments"],
                        ui,
                        names,
                        partner="owner_partner_id",
                        site=None,
                        sector=None,
                    ),
                ),
            },
            record=answer.body,
            names=answer.body["directory"],
            by_month=months,
            report={
                "office": record["office"],
                "issued_on": day,
                "period": period_text(ui, filters.period, day),
                "country": country_name(ui, record["partner"]["country"]),
                "chart": charts.columns(
                    [(label[f"month_label_{ui.lang}"], sub["total"]) for label, _, sub in months],
                    ui,
                    ui.t("report_chart"),
                ),
            },
            chosen={
                "from": ui.digits(typed_month(first) or ""),
                "to": ui.digits(typed_month(to) or ""),
            },
            months=month_choices(ui, month_key(day, ui.calendar)),
            attestation=attestation,
            attest_link=attest_link,
        )

    @get("/meetings/{meeting_id:uuid}")
    async def meeting(
        self, request: Request[Any, Any, Any], meeting_id: FromPath[uuid.UUID]
    ) -> Response[Any]:
        principal = viewer(request)
        ui = locale_of(request)
        at = asked_position(request)

        async def query(conn: Conn, names: Any) -> dict[str, Any] | None:
            meeting = await conn.fetchrow(
                f"SELECT * FROM {names['meetings']} WHERE meeting_id = $1", meeting_id
            )
            if meeting is None:
                return None
            presented = await conn.fetch(
                f"SELECT partner_id, summary, challenges FROM {names['presentations']}"
                " WHERE meeting_id = $1 ORDER BY presented_position",
                meeting_id,
            )
            promised = await commitment_rows(conn, names, on=today_in_tehran())
            return {
                "meeting": dict(meeting),
                "participants": msgspec.json.decode(meeting["participants"]),
                "presented": [
                    {**dict(p), "challenges": msgspec.json.decode(p["challenges"])}
                    for p in presented
                ],
                "commitments": [c for c in promised if c["meeting_id"] == str(meeting_id)],
                "directory": await directory(conn, names),
            }

        reader: ReportReader = request.app.state.reports
        answer = await reader.read_at(("directory", "commitments", "partner_record"), query, at)
        body = answer.body
        if principal.role is Role.PARTNER:
            # authorized before existence: a meeting that is not there was not attended
            attended: set[str] = set()
            if body is not None:
                attended = {p["partner_id"] for p in body["participants"]}
                attended.add(body["meeting"]["chair_partner_id"])
            if principal.partner_id not in attended:
                raise PermissionDeniedException("a partner sees the meetings it attended")
        if body is None:
            raise NotFoundException(f"no meeting {meeting_id}")
        shown = named(
            body["commitments"],
            ui,
            body["directory"],
            partner="owner_partner_id",
            site=None,
            sector=None,
        )
        return await page(
            request,
            "meeting.html",
            "meeting",
            as_of=answer.as_of_position,
            at=at,
            tables={"commitments": Table(tables.NAMED_COMMITMENTS, shown)},
            names=body["directory"],
            **{k: v for k, v in body.items() if k != "directory"},
        )
