"""The forms page and the coordination forms: a meeting in one form (participants,
their presentations and any number of commitments: one atomic batch), marking a
commitment (progress, fulfilment; withdrawal for coordinators), and locking and
unlocking a month. Every form posts through `server.web.writing`."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Template

from server.aggregates.commitment import Commitment, commitment_stream
from server.aggregates.periods import Periods
from server.auth.tokens import Role
from server.projections.commitments import commitment_rows, today_in_tehran
from server.projections.model import Conn
from server.projections.reading import ReportReader
from server.web.directory import directory
from server.web.fields import (
    Field,
    draw,
    names,
    partner_options,
    sector_options,
    site_options,
)
from server.web.frame import locale_of, render
from server.web.i18n import typed_month
from server.web.writing import Draft, aggregate, data_paths, done, submit, writer

COMMITMENT_ROWS = 2  # drawn at first; "one more" adds a row, keeping what was typed
MAX_COMMITMENT_ROWS = 100
ACTIONS = {"progress", "fulfil", "withdraw"}


class MeetingForms(Controller):
    path = "/forms"
    include_in_schema = False

    @get("")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """What the signed-in writer may record, and its own open items to act on."""
        principal = writer(request)
        partner = principal.partner_id
        reader: ReportReader = request.app.state.reports

        async def query(conn: Conn, tables: Any) -> dict[str, Any]:
            owner = partner if principal.role is Role.PARTNER else None
            open_ones = await commitment_rows(conn, tables, on=today_in_tehran(), owner=owner)
            deliveries = []
            if partner is not None:
                deliveries = await conn.fetch(
                    f"SELECT delivery_id, site_id, sector, activity, period_start, period_end,"
                    f" total FROM {tables['deliveries']} WHERE partner_id = $1"
                    " ORDER BY delivered_position DESC LIMIT 50",
                    partner,
                )
            return {
                "commitments": [c for c in open_ones if c["status"] == "open"],
                "deliveries": [dict(d) for d in deliveries],
                "names": await directory(conn, tables),
            }

        answer = await reader.read_live(("directory", "commitments", "deliveries"), query)
        return render(request, "forms.html", "nav_write", **answer.body)

    # --- meetings -----------------------------------------------------------------

    async def _meeting_page(self, request: Request[Any, Any, Any], draft: Draft) -> Template:
        ui = locale_of(request)
        found = await names(request)
        rows = min(max(COMMITMENT_ROWS, _int(draft.get("rows"))), MAX_COMMITMENT_ROWS)
        if draft.get("action") == "more":
            rows = min(rows + 1, MAX_COMMITMENT_ROWS)
        draft.values["rows"] = str(rows)
        return draw(
            request,
            "form_meeting.html",
            "form_meeting",
            draft,
            fields=[
                Field("held_on", "held_on", "date"),
                Field("title_fa", "title_fa"),
                Field("title_en", "title_en"),
                Field("site_id", "site", "select", required=False, options=site_options(ui, found)),
                Field("chair_partner_id", "chair", "select", options=partner_options(ui, found)),
                Field("summary", "summary", "textarea", required=False),
            ],
            partners=partner_options(ui, found),
            sectors=sector_options(ui),
            rows=range(rows),
        )

    @get("/meeting")
    async def meeting_form(self, request: Request[Any, Any, Any]) -> Template:
        writer(request, Role.COORDINATOR)
        return await self._meeting_page(request, Draft.blank(locale_of(request)))

    @post("/meeting", status_code=200)
    async def record_meeting(self, request: Request[Any, Any, Any]) -> Template:
        principal = writer(request, Role.COORDINATOR)
        draft = await Draft.of(request, locale_of(request))
        if draft.get("action") == "more":
            return await self._meeting_page(request, draft)
        meeting_id = draft.id("meeting")
        held_on = draft.date("held_on")
        attending = draft.chosen("participants")
        if not attending:
            draft.error("participants", "required")
        meeting = {
            "meeting_id": meeting_id,
            "held_on": held_on and held_on.isoformat(),
            "title_fa": draft.text("title_fa"),
            "title_en": draft.text("title_en"),
            "site_id": draft.text("site_id", required=False),
            "chair_partner_id": draft.text("chair_partner_id"),
            "participants": [
                {
                    "partner_id": pid,
                    "person": draft.text(f"person-{pid}", required=False),
                    "role": draft.text(f"role-{pid}", required=False),
                }
                for pid in attending
            ],
            "summary": draft.text("summary", required=False),
        }
        events = [{"type": "MeetingHeld", "id": draft.id("event"), "data": meeting}]
        paths = data_paths(0, ("held_on", "title_fa", "title_en", "site_id", "summary"))
        paths |= {"[0].data.chair_partner_id": "chair_partner_id"}
        paths |= {"[0].data.participants": "participants"}
        for pid in attending:
            said = draft.text(f"presented-{pid}", required=False)
            if said is None:
                continue
            lines = [line.strip() for line in draft.get(f"challenges-{pid}").splitlines()]
            index = len(events)
            events.append(
                {
                    "type": "ReportPresented",
                    "id": draft.id(f"presented/{pid}"),
                    "data": {
                        "meeting_id": meeting_id,
                        "partner_id": pid,
                        "summary": said,
                        "challenges": [line for line in lines if line],
                    },
                }
            )
            paths[f"[{index}].data.partner_id"] = f"presented-{pid}"
            paths[f"[{index}].data.summary"] = f"presented-{pid}"
            paths[f"[{index}].data.challenges"] = f"challenges-{pid}"
        for row in range(min(_int(draft.get("rows")), MAX_COMMITMENT_ROWS)):
            made = _commitment(draft, row, meeting_id)
            if made is None:
                continue
            index = len(events)
            events.append(made)
            names_ = ("description_fa", "description_en", "owner_partner_id", "due_on", "sector")
            paths |= data_paths(index, names_, prefix=f"c{row}-")
        receipts = await submit(request, principal, draft, events, paths=paths)
        if receipts is None:
            return await self._meeting_page(request, draft)
        links = [(f"/meetings/{meeting_id}", "meeting"), ("/commitments", "nav_commitments")]
        return done(request, receipts, links)

    # --- commitments ----------------------------------------------------------------

    async def _commitment(
        self, request: Request[Any, Any, Any], commitment_id: uuid.UUID
    ) -> Commitment:
        principal = writer(request)
        current = await aggregate(request, commitment_stream(commitment_id))
        mine = isinstance(current, Commitment) and current.owner_partner_id == principal.partner_id
        if principal.role is Role.PARTNER and not mine:
            # authorized before existence: a partner learns nothing of others' commitments
            raise PermissionDeniedException("a partner marks the commitments it owns")
        if not isinstance(current, Commitment):
            raise NotFoundException(f"no commitment {commitment_id}")
        return current

    async def _commitment_page(
        self,
        request: Request[Any, Any, Any],
        current: Commitment,
        drafts: dict[str, Draft] | None = None,
    ) -> Template:
        ui = locale_of(request)
        drafts = drafts or {}
        for action in ACTIONS:
            drafts.setdefault(action, Draft.blank(ui))
        found = await names(request)
        failed = any(d.failed for d in drafts.values())
        return render(
            request,
            "form_commitment.html",
            "form_commitment",
            status_code=422 if failed else 200,
            commitment=current,
            owner=ui.name(*found.partner(current.owner_partner_id)),
            drafts=drafts,
        )

    @get("/commitments/{commitment_id:uuid}")
    async def commitment_form(
        self, request: Request[Any, Any, Any], commitment_id: FromPath[uuid.UUID]
    ) -> Template:
        return await self._commitment_page(request, await self._commitment(request, commitment_id))

    @post("/commitments/{commitment_id:uuid}/{action:str}", status_code=200)
    async def mark_commitment(
        self,
        request: Request[Any, Any, Any],
        commitment_id: FromPath[uuid.UUID],
        action: FromPath[str],
    ) -> Template:
        principal = writer(request)
        if action not in ACTIONS:
            raise NotFoundException(f"no such action {action!r}")
        if action == "withdraw":
            writer(request, Role.COORDINATOR)
        current = await self._commitment(request, commitment_id)
        draft = await Draft.of(request, locale_of(request))
        data: dict[str, Any] = {"commitment_id": str(commitment_id)}
        if action == "withdraw":
            event_type = "CommitmentWithdrawn"
            data["reason"] = draft.text("reason")
        elif action == "fulfil":
            event_type = "CommitmentFulfilled"
            data["note"] = draft.text("note")
            data["evidence"] = draft.get("evidence").replace(",", " ").split()
        else:
            event_type = "CommitmentProgressReported"
            data["note"] = draft.text("note")
            data["percent"] = draft.count("percent", required=False)
        event = {"type": event_type, "id": draft.id(action), "data": data}
        paths = data_paths(0, ("reason", "note", "evidence", "percent"))
        receipts = await submit(request, principal, draft, [event], paths=paths)
        if receipts is None:
            return await self._commitment_page(request, current, {action: draft})
        return done(request, receipts, [("/commitments", "nav_commitments")])

    # --- months ---------------------------------------------------------------------

    async def _periods_page(self, request: Request[Any, Any, Any], draft: Draft) -> Template:
        ui = locale_of(request)
        periods = await aggregate(request, "periods")
        locks = periods.locks if isinstance(periods, Periods) else {}
        return draw(
            request,
            "form_periods.html",
            "form_periods",
            draft,
            fields=[
                Field("month", "month", "month"),
                Field(
                    "lock_action",
                    "lock_action",
                    "radio",
                    options=(("lock", ui.t("lock")), ("unlock", ui.t("unlock"))),
                ),
                Field("reason", "reason", "textarea"),
            ],
            locks=sorted(locks.values(), key=lambda lock: (lock["calendar"], lock["month"])),
        )

    @get("/periods")
    async def periods_form(self, request: Request[Any, Any, Any]) -> Template:
        writer(request, Role.COORDINATOR)
        draft = Draft.blank(locale_of(request), lock_action="lock")
        return await self._periods_page(request, draft)

    @post("/periods", status_code=200)
    async def lock_or_unlock(self, request: Request[Any, Any, Any]) -> Template:
        principal = writer(request, Role.COORDINATOR)
        ui = locale_of(request)
        draft = await Draft.of(request, ui)
        month = typed_month(draft.get("month"))
        if month is None:
            draft.error("month", "required")
        unlock = draft.get("lock_action") == "unlock"
        data = {"month": month, "calendar": ui.calendar, "reason": draft.text("reason")}
        event = {
            "type": "PeriodUnlocked" if unlock else "PeriodLocked",
            "id": draft.id("unlock" if unlock else "lock"),
            "data": data,
        }
        paths = data_paths(0, ("month", "reason"))
        receipts = await submit(request, principal, draft, [event], paths=paths)
        if receipts is None:
            return await self._periods_page(request, draft)
        return done(request, receipts, [("/forms/periods", "form_periods")])


def _int(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() else 0


def _commitment(draft: Draft, row: int, meeting_id: str) -> dict[str, Any] | None:
    """Row `row` of the meeting's commitments as an event; None when left blank."""
    prefix = f"c{row}-"
    typed = [draft.get(prefix + n).strip() for n in ("description_fa", "description_en", "due_on")]
    if not any(typed):
        return None
    due = draft.date(prefix + "due_on")
    owner = draft.text(prefix + "owner_partner_id")
    return {
        "type": "CommitmentMade",
        "id": draft.id(f"commitment-event/{row}"),
        "data": {
            "commitment_id": draft.id(f"commitment/{row}"),
            "meeting_id": meeting_id,
            "owner_partner_id": owner,
            "description_fa": draft.text(prefix + "description_fa", required=False),
            "description_en": draft.text(prefix + "description_en", required=False),
            "sector": draft.text(prefix + "sector", required=False),
            "due_on": due and due.isoformat(),
        },
    }
