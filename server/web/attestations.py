"""Attestations in the dashboard: the signed code and QR code a printed partner record
carries, and the verify page where anyone signed in pastes or scans one and sees what it
attests and whether it still holds against the live log.

A check on the verify page: the signature is the log's key's; the live log's root at the
attested position is the attested root (the log was not rewritten under the report);
the report, recomputed by the server at that position, has the signed digest."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import segno
from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException

from server.audit.attestation import (
    Attestation,
    AttestationError,
    code_of,
    content_digest,
    normal_code,
    open_note,
    parse,
    qr_payload,
    read_statement,
)
from server.audit.attestations import attest_report, find, root_at
from server.auth.permissions import may_read_record
from server.projections.catalog import REPORTS
from server.projections.decoding import log_head
from server.projections.model import Conn
from server.projections.periods import Period, format_month
from server.projections.reading import ReportReader
from server.projections.report_bodies import BadParameter, Params, TableSource, build, content
from server.web.frame import locale_of, render, viewer

# a pasted statement is a note of well under 2 KB; anything longer is not one
MAX_PASTED = 8_000


def record_params(partner_id: str, period: Period, day: datetime.date) -> Params:
    """The partner report's parameters for a record page (as `partner_params` makes them)."""
    return {
        "partner_id": partner_id,
        "on": day.isoformat(),
        "calendar": period.calendar,
        "from": None if period.first is None else format_month(period.first),
        "to": None if period.last is None else format_month(period.last),
    }


PAGE_ONLY = frozenset({"directory", "office"})


async def printed(
    request: Request[Any, Any, Any], params: Params, as_of: int, record: dict[str, Any]
) -> dict[str, Any]:
    """Sign the record the page shows (it must be of one position: `as_of`) and what the
    printed page carries: its code, the verify link and its QR code as inline SVG."""
    state = request.app.state
    attestation = await attest_report(
        state.pool,
        state.checkpointer.signer,
        report="partner",
        parameters=params,
        as_of_position=as_of,
        # the record as the report gives it: the names and the issuing office the page
        # adds from the directory are not the report's (nor recomputed offline)
        content=content({k: v for k, v in record.items() if k not in PAGE_ONLY}),
    )
    link = f"{str(request.base_url).rstrip('/')}/verify?note={qr_payload(attestation.note)}"
    qr = segno.make(link, error="m")
    return {
        "code": attestation.code,
        "statement": attestation.statement,
        "link": link,
        "qr": qr.svg_inline(scale=2, omitsize=False, title=attestation.code),
    }


@dataclass
class Check:
    """What the verify page found; None: not checked (an earlier check failed)."""

    attestation: Attestation
    signature: bool = False
    root: bool | None = None
    figures: bool | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return self.signature and bool(self.root) and bool(self.figures)


async def check(request: Request[Any, Any, Any], attestation: Attestation) -> Check:
    state = request.app.state
    result = Check(attestation)
    statement = attestation.statement
    try:
        open_note(attestation.note, state.checkpointer.signer.verifier)
        result.signature = True
    except AttestationError as exc:
        result.problems.append(str(exc))
        return result
    n = statement.as_of_position
    head = await log_head(state.pool)
    if n > head:
        result.root = False
        result.problems.append(f"the log has {head} events, fewer than the attested {n}")
        return result
    result.root = await root_at(state.pool, n) == statement.root
    if not result.root:
        result.problems.append(f"the live log's root at {n} is not the attested one")
        return result
    reader: ReportReader = state.reports
    params = statement.parameters

    async def query(conn: Conn, names: Any) -> Any:
        return await build(TableSource(conn, names), statement.report, params)

    try:
        names = REPORTS[statement.report]
        body = (await reader.read_at(names, query, n)).body
    except (KeyError, BadParameter) as exc:
        result.figures = False
        result.problems.append(f"the attested report cannot be recomputed: {exc}")
        return result
    digest = None if body.document is None else content_digest(content(body.document))
    result.figures = digest == statement.rows_sha256
    if not result.figures:
        result.problems.append("the report recomputed at that position has other figures")
    return result


class VerifyPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/verify")
    async def verify(self, request: Request[Any, Any, Any]) -> Response[Any]:
        principal = viewer(request)
        ui = locale_of(request)
        code = (request.query_params.get("code") or "").strip()
        pasted = (request.query_params.get("note") or "").strip()
        found: Attestation | None = None
        error = None
        if len(code) + len(pasted) > MAX_PASTED:
            error = "verify_too_long"
        elif pasted:
            try:
                found = parse(pasted)
            except AttestationError:
                error = "verify_unreadable"
        elif code:
            normal = normal_code(code)
            stored = None if normal is None else await find(request.app.state.pool, normal)
            if stored is None or (
                stored[1] is not None and not may_read_record(principal, stored[1])
            ):
                # another partner's record's code reads as one never issued (as the API)
                raise NotFoundException(f"no report attestation has code {code!r}")
            note = stored[0]
            found = Attestation(statement=read_statement(note), note=note, code=code_of(note))
        if found is not None:
            about = found.statement.parameters.get("partner_id")
            if found.statement.report == "partner" and not may_read_record(principal, str(about)):
                raise NotFoundException("a partner checks its own record's attestations only")
        result = None if found is None else await check(request, found)
        return render(
            request,
            "verify.html",
            "nav_verify",
            status_code=400 if error else 200,
            ui_error=error,
            code=code,
            note=pasted,
            result=result,
            ui_lang=ui.lang,
        )
