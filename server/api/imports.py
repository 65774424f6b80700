"""Spreadsheet imports: templates to fill in, and `POST /v1/imports`, which reads a CSV
or XLSX file into envelopes (server/imports) and checks or posts them as one batch
through the same posting service as POST /v1/events. Thin: no rule lives here."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath, QueryParameter

from schemas.imports import ImportChange, ImportReport, ImportRowError
from server.api.events import receipt_of
from server.api.headers import header
from server.api.openapi import ImportOperation, ImportTemplateOperation
from server.api.problems import TYPE_BASE, ProblemDetail
from server.api.request_id import request_id_of
from server.auth.middleware import (
    READERS,
    UNKNOWN,
    Credential,
    check_role,
    confirm_token,
    forget_token,
    principal_of,
)
from server.auth.permissions import POSTERS
from server.eventstore import TokenRevoked
from server.imports.columns import IMPORT_TYPES
from server.imports.messages import RowError
from server.imports.reading import (
    CSV,
    MAX_ROWS,
    MEDIA_TYPES,
    XLSX,
    TooManyRows,
    UnreadableFile,
    read,
)
from server.imports.rows import Reader
from server.imports.templates import csv_template, xlsx_template
from server.projections.model import Conn
from server.projections.reading import ReportReader
from server.services.importing import Outcome, run_import
from server.web.directory import directory

ImportType = Literal["ServiceDelivered", "PledgeMade", "DisbursementRecorded", "ChallengeReported"]
assert set(ImportType.__args__) == set(IMPORT_TYPES)  # type: ignore[attr-defined]


async def _sites(state: State) -> dict[str, tuple[str, str]]:
    """The registered sites with their names, from the directory projection."""
    reports: ReportReader = state.reports

    async def query(conn: Conn, names: Any) -> dict[str, tuple[str, str]]:
        return (await directory(conn, names)).sites

    answer = await reports.read_live(("directory",), query)
    return answer.body


class ImportsController(Controller):
    path = "/v1/imports"
    tags = ["imports"]

    @get(
        "/templates/{type_name:str}",
        guards=[READERS],
        operation_id="importTemplate",
        operation_class=ImportTemplateOperation,
        summary="A spreadsheet template to fill in and import",
    )
    async def template(
        self,
        state: State,
        type_name: FromPath[ImportType],
        format: Annotated[
            Literal["xlsx", "csv"], QueryParameter(description="xlsx or csv")
        ] = "xlsx",
        lang: Annotated[Literal["fa", "en"], QueryParameter(description="labels' language")] = "fa",
    ) -> Response[bytes]:
        """A header row of labels in `lang`, then the HXL hashtag row, then example rows
        marked in the `example` column (an import skips them). The XLSX template has
        drop-down lists of sectors, the registered sites and population groups."""
        sites = await _sites(state)
        if format == "csv":
            body, media = csv_template(type_name, lang, sites), CSV + "; charset=utf-8"
        else:
            body, media = xlsx_template(type_name, lang, sites), XLSX
        filename = f"hamkari-{type_name}-{lang}.{format}"
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @post(
        "",
        operation_id="importSpreadsheet",
        operation_class=ImportOperation,
        summary="Import a CSV or XLSX file of events, all or nothing",
        status_code=200,
    )
    async def import_file(
        self,
        request: Request[Any, Any, Any],
        type: Annotated[ImportType, QueryParameter(description="the event type of every row")],
        dry_run: Annotated[
            bool, QueryParameter(description="true: check and preview, append nothing")
        ] = True,
    ) -> Response[Any]:
        """Send the file as the body (`text/csv` or the XLSX media type). Each row becomes
        an event of `type`, posted as one atomic batch with the same roles, rules and
        receipts as `POST /v1/events`. `dry_run=true` (the default) appends nothing and
        says what would be new, corrected or unchanged, and every row error. The same
        file imported twice appends nothing; a delivery recorded with other values
        becomes a `DeliveryCorrected`. Any error: 422 with the same body, nothing
        appended. More than 10,000 rows: 413. A row for another partner: 403."""
        principal = principal_of(request)
        check_role(principal, POSTERS[type])
        media = header(request.scope, b"content-type").split(";")[0].strip().lower()
        if media not in MEDIA_TYPES:
            raise ProblemDetail(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                f"send the file as {CSV} or {XLSX}",
            )
        state: State = request.app.state
        body = await request.body()
        try:
            # calamine and openpyxl are CPU work: off the event loop
            sheet = await asyncio.to_thread(read, body, media)
            sites = await _sites(state)
            read_rows = Reader(type, principal.partner_id, sites).read(sheet)
        except UnreadableFile as exc:
            raise ProblemDetail(
                400, "unreadable-spreadsheet", "Unreadable spreadsheet", str(exc)
            ) from None
        except TooManyRows as exc:
            raise ProblemDetail(
                413,
                "too-many-rows",
                "Too many rows",
                f"{exc}; one import carries at most {MAX_ROWS:,} rows: split the file",
            ) from None
        credential: Credential = request.auth
        try:
            outcome = await run_import(
                state.posting,
                principal,
                read_rows.rows,
                # rows that cannot be read: the others are still checked, so that one
                # answer lists every error, but nothing is posted
                dry_run=dry_run or bool(read_rows.errors),
                request_id=request_id_of(request),
                token=credential.token_hash,
            )
        except TokenRevoked:
            forget_token(request)
            raise NotAuthorizedException(UNKNOWN) from None
        if not outcome.appended_any:
            await confirm_token(request)
        if read_rows.errors:
            outcome.errors = sorted(
                [*read_rows.errors, *outcome.errors], key=lambda e: (e.row or 0, e.cell or "")
            )
        return _answer(read_rows.count, outcome, dry_run)


def _error(error: RowError) -> ImportRowError:
    path = f"rows[{error.row}]" if error.row is not None else "file"
    if error.column:
        path += f".{error.column}"
    return ImportRowError(
        row=error.row,
        column=error.column,
        rule=error.rule,
        message_fa=error.message_fa,
        message_en=error.message_en,
        cell=error.cell,
        path=path,
        message=error.message_en,
    )


def _answer(rows: int, outcome: Outcome, dry_run: bool) -> Response[Any]:
    failed = bool(outcome.errors)
    detail = f"{len(outcome.errors)} error(s) in the file; nothing was appended"
    report = ImportReport(
        rows=rows,
        new=outcome.new,
        corrected=outcome.corrected,
        unchanged=outcome.unchanged,
        errors=[_error(e) for e in outcome.errors],
        receipts=[] if failed else [receipt_of(r) for r in outcome.receipts],
        changes=[
            ImportChange(row=c.row, delivery_id=c.delivery_id, field=c.field, old=c.old, new=c.new)
            for c in outcome.changes
        ],
        dry_run=dry_run,
    )
    if failed:
        refused = msgspec.structs.replace(
            report,
            type=TYPE_BASE + "import-refused",
            title="Import refused",
            status=422,
            detail=detail,
        )
        raise ProblemDetail(422, "import-refused", "Import refused", detail, body=refused)
    return Response(report, status_code=201 if outcome.appended_any else 200)
