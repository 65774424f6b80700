"""A partner's money and obstacle forms: record a pledge, a disbursement against one of
its pledges, and a challenge. Each is one event posted through `server.web.writing`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Template

from server.auth.tokens import Principal, Role
from server.projections.model import Conn
from server.projections.reading import ReportReader
from server.web.fields import (
    Field,
    currency_options,
    draw,
    names,
    partner_options,
    sector_options,
    site_options,
)
from server.web.frame import locale_of
from server.web.i18n import Locale
from server.web.writing import Draft, data_paths, done, submit, writer


async def own_pledges(
    request: Request[Any, Any, Any], ui: Locale, partner_id: str
) -> tuple[tuple[str, str], ...]:
    """The partner's pledges not cancelled, for the disbursement form's choice."""
    reader: ReportReader = request.app.state.reports

    async def query(conn: Conn, tables: Any) -> list[Any]:
        return list(
            await conn.fetch(
                f"SELECT pledge_id, amount, currency, description, made_on"
                f" FROM {tables['pledges']} WHERE partner_id = $1 AND NOT cancelled"
                " ORDER BY made_position DESC",
                partner_id,
            )
        )

    rows = (await reader.read_live(("pledges",), query)).body
    return tuple(
        (
            str(r["pledge_id"]),
            f"{ui.money(r['amount'], r['currency'])} · {ui.date(r['made_on'])}"
            + (f" · {r['description'][:60]}" if r["description"] else ""),
        )
        for r in rows
    )


class PartnerForms(Controller):
    path = "/forms"
    include_in_schema = False

    # --- pledges ------------------------------------------------------------------

    async def _pledge_fields(self, request: Request[Any, Any, Any]) -> list[Field]:
        ui = locale_of(request)
        found = await names(request)
        return [
            Field("amount", "amount", "money"),
            Field("currency", "currency", "select", options=currency_options()),
            Field("sectors", "sectors", "checks", options=sector_options(ui)),
            Field("site_id", "site", "select", required=False, options=site_options(ui, found)),
            Field("period_start", "period_start", "date"),
            Field("period_end", "period_end", "date"),
            Field("description", "description", "textarea", required=False),
        ]

    @get("/pledge")
    async def pledge_form(self, request: Request[Any, Any, Any]) -> Template:
        writer(request, Role.PARTNER)
        draft = Draft.blank(locale_of(request))
        return draw(
            request, "form.html", "form_pledge", draft, fields=await self._pledge_fields(request)
        )

    @post("/pledge", status_code=200)
    async def record_pledge(self, request: Request[Any, Any, Any]) -> Template:
        principal = writer(request, Role.PARTNER)
        draft = await Draft.of(request, locale_of(request))
        start, end = draft.date("period_start"), draft.date("period_end")
        sectors = draft.chosen("sectors")
        if not sectors:
            draft.error("sectors", "required")
        pledge_id = draft.id("pledge")
        data = {
            "pledge_id": pledge_id,
            "partner_id": principal.partner_id,
            "amount": draft.money("amount"),
            "currency": draft.text("currency"),
            "sectors": sectors,
            "site_id": draft.text("site_id", required=False),
            "period_start": start and start.isoformat(),
            "period_end": end and end.isoformat(),
            "description": draft.text("description", required=False),
        }
        event = {"type": "PledgeMade", "id": draft.id("event"), "data": data}
        paths = data_paths(0, ("amount", "currency", "sectors", "site_id", "description"))
        paths |= data_paths(0, ("period_start", "period_end"))
        receipts = await submit(request, principal, draft, [event], paths=paths)
        if receipts is None:
            fields = await self._pledge_fields(request)
            return draw(request, "form.html", "form_pledge", draft, fields=fields)
        return done(request, receipts, _record_links(principal, "/forms/pledge", "form_pledge"))

    # --- disbursements --------------------------------------------------------------

    async def _disbursement_fields(
        self, request: Request[Any, Any, Any], principal: Principal
    ) -> list[Field]:
        ui = locale_of(request)
        found = await names(request)
        assert principal.partner_id is not None
        return [
            Field(
                "pledge_id",
                "pledge",
                "select",
                options=await own_pledges(request, ui, principal.partner_id),
            ),
            Field("amount", "amount", "money"),
            Field("currency", "currency", "select", options=currency_options()),
            Field("disbursed_on", "disbursed_on", "date"),
            Field(
                "recipient_partner_id",
                "recipient",
                "select",
                required=False,
                options=partner_options(ui, found),
            ),
        ]

    @get("/disbursement")
    async def disbursement_form(self, request: Request[Any, Any, Any]) -> Template:
        principal = writer(request, Role.PARTNER)
        draft = Draft.blank(locale_of(request))
        fields = await self._disbursement_fields(request, principal)
        return draw(request, "form.html", "form_disbursement", draft, fields=fields)

    @post("/disbursement", status_code=200)
    async def record_disbursement(self, request: Request[Any, Any, Any]) -> Template:
        principal = writer(request, Role.PARTNER)
        draft = await Draft.of(request, locale_of(request))
        day = draft.date("disbursed_on")
        data = {
            "pledge_id": draft.text("pledge_id"),
            "disbursement_id": draft.id("disbursement"),
            "amount": draft.money("amount"),
            "currency": draft.text("currency"),
            "disbursed_on": day and day.isoformat(),
            "recipient_partner_id": draft.text("recipient_partner_id", required=False),
        }
        event = {"type": "DisbursementRecorded", "id": draft.id("event"), "data": data}
        paths = data_paths(
            0, ("pledge_id", "amount", "currency", "disbursed_on", "recipient_partner_id")
        )
        receipts = await submit(request, principal, draft, [event], paths=paths)
        if receipts is None:
            fields = await self._disbursement_fields(request, principal)
            return draw(request, "form.html", "form_disbursement", draft, fields=fields)
        links = _record_links(principal, "/forms/disbursement", "form_disbursement")
        return done(request, receipts, [("/pledges", "nav_pledges"), *links])

    # --- challenges -----------------------------------------------------------------

    async def _challenge_fields(self, request: Request[Any, Any, Any]) -> list[Field]:
        ui = locale_of(request)
        found = await names(request)
        return [
            Field("site_id", "site", "select", required=False, options=site_options(ui, found)),
            Field("sector", "sector", "select", required=False, options=sector_options(ui)),
            Field("description", "description", "textarea"),
        ]

    @get("/challenge")
    async def challenge_form(self, request: Request[Any, Any, Any]) -> Template:
        writer(request, Role.PARTNER)
        draft = Draft.blank(locale_of(request))
        fields = await self._challenge_fields(request)
        return draw(request, "form.html", "form_challenge", draft, fields=fields)

    @post("/challenge", status_code=200)
    async def report_challenge(self, request: Request[Any, Any, Any]) -> Template:
        principal = writer(request, Role.PARTNER)
        draft = await Draft.of(request, locale_of(request))
        data = {
            "challenge_id": draft.id("challenge"),
            "partner_id": principal.partner_id,
            "site_id": draft.text("site_id", required=False),
            "sector": draft.text("sector", required=False),
            "description": draft.text("description"),
        }
        event = {"type": "ChallengeReported", "id": draft.id("event"), "data": data}
        paths = data_paths(0, ("site_id", "sector", "description"))
        receipts = await submit(request, principal, draft, [event], paths=paths)
        if receipts is None:
            fields = await self._challenge_fields(request)
            return draw(request, "form.html", "form_challenge", draft, fields=fields)
        return done(
            request, receipts, _record_links(principal, "/forms/challenge", "form_challenge")
        )


def _record_links(principal: Principal, again: str, label: str) -> list[tuple[str, str]]:
    return [(f"/partners/{principal.partner_id}", "nav_my_record"), (again, label + "_another")]
