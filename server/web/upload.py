"""The dashboard's spreadsheet upload: choose a type and a file, see the dry run as a
preview table with each error in its cell, then confirm. The file is read and posted by
the same code as `POST /v1/imports` (server/imports, `run_import`).

Between preview and confirm the file travels in the confirm form itself, with an HMAC
over who previewed it, its type, an expiry and its SHA-256: what is confirmed is
exactly what was previewed, by the same person, within the hour, on any worker (no
server-side state). The confirm runs the whole import again, rules and all."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from typing import Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from server.api.request_id import request_id_of
from server.auth.permissions import POSTERS, Forbidden
from server.auth.tokens import Principal
from server.eventstore import TokenRevoked
from server.imports.cells import text
from server.imports.columns import IMPORT_TYPES
from server.imports.messages import RowError, column_letter
from server.imports.reading import CSV, MAX_ROWS, XLSX, TooManyRows, UnreadableFile, read
from server.imports.rows import Reader
from server.imports.templates import csv_template, xlsx_template
from server.services.importing import Outcome, run_import
from server.web.fields import names
from server.web.frame import locale_of, render
from server.web.writing import writer

CONFIRM_SECONDS = 3600
PREVIEW_ROWS = 200  # rows drawn in the preview; rows with errors are drawn whatever their place
TemplateFormat = Literal["xlsx", "csv"]


def _media(upload: UploadFile) -> str | None:
    """The file's type by its name (what a person chose), else by what the browser said."""
    name = (upload.filename or "").lower()
    if name.endswith(".csv"):
        return CSV
    if name.endswith(".xlsx"):
        return XLSX
    if "." in name.rsplit("/", 1)[-1]:
        return None
    return upload.content_type if upload.content_type in (CSV, XLSX) else None


def _seal(
    secret: bytes, principal: Principal, type_name: str, media: str, body: bytes, until: int
) -> str:
    message = "\x1f".join(
        (
            principal.name,
            principal.role.value,
            principal.partner_id or "",
            type_name,
            media,
            str(until),
            hashlib.sha256(body).hexdigest(),
        )
    )
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def _secret(request: Request[Any, Any, Any]) -> bytes:
    secret = request.route_handler.opt.get("upload_secret")
    assert isinstance(secret, bytes)
    return secret


class UploadPages(Controller):
    path = "/upload"
    include_in_schema = False

    @get("")
    async def upload_page(self, request: Request[Any, Any, Any]) -> Template:
        writer(request)
        return render(
            request, "upload.html", "nav_upload", types=IMPORT_TYPES, chosen="", error=None
        )

    @get("/templates/{type_name:str}")
    async def template(
        self,
        request: Request[Any, Any, Any],
        type_name: FromPath[str],
        format: FromQuery[TemplateFormat] = "xlsx",
    ) -> Response[bytes]:
        """The same templates as `GET /v1/imports/templates/{type}`, in the page's language."""
        writer(request)
        if type_name not in IMPORT_TYPES:
            raise ValidationException(f"no template for {type_name!r}")
        ui = locale_of(request)
        sites = (await names(request)).sites
        if format == "csv":
            body, media = csv_template(type_name, ui.lang, sites), CSV + "; charset=utf-8"
        else:
            body, media = xlsx_template(type_name, ui.lang, sites), XLSX
        filename = f"hamkari-{type_name}-{ui.lang}.{format}"
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @post("", status_code=200)
    async def preview(self, request: Request[Any, Any, Any]) -> Template:
        principal = writer(request)
        form = await request.form()
        type_name = str(form.get("type", ""))
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return self._refused(request, type_name, "upload_no_file")
        media = _media(upload)
        if media is None:
            return self._refused(request, type_name, "upload_not_spreadsheet")
        body = await upload.read()
        # the confirm form carries the file as base64 (4/3 of its size) under the same
        # body limit as every request
        if len(body) * 4 // 3 + 65536 > request.app.state.settings.max_body_bytes:
            return self._refused(request, type_name, "upload_too_large", status=413)
        return await self._run(request, principal, type_name, media, body, dry_run=True)

    @post("/confirm", status_code=200)
    async def confirm(self, request: Request[Any, Any, Any]) -> Template:
        principal = writer(request)
        form = await request.form()
        type_name, media = str(form.get("type", "")), str(form.get("media", ""))
        try:
            body = base64.urlsafe_b64decode(str(form.get("file", "")))
            until = int(str(form.get("until", "0")))
        except ValueError:
            raise ValidationException(
                "the confirmation is broken: preview the file again"
            ) from None
        seal = _seal(_secret(request), principal, type_name, media, body, until)
        if not hmac.compare_digest(seal, str(form.get("seal", ""))) or media not in (CSV, XLSX):
            raise ValidationException("the confirmation does not match the file previewed")
        if until < time.time():
            return self._refused(request, type_name, "upload_expired")
        return await self._run(request, principal, type_name, media, body, dry_run=False)

    def _refused(
        self, request: Request[Any, Any, Any], type_name: str, error: str, status: int = 400
    ) -> Template:
        return render(
            request,
            "upload.html",
            "nav_upload",
            status_code=status,
            types=IMPORT_TYPES,
            chosen=type_name,
            error=error,
        )

    async def _run(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        type_name: str,
        media: str,
        body: bytes,
        *,
        dry_run: bool,
    ) -> Template:
        if type_name not in IMPORT_TYPES:
            return self._refused(request, type_name, "upload_no_type")
        if principal.role not in POSTERS[type_name]:
            raise PermissionDeniedException(f"a {principal.role.value} does not post {type_name}")
        try:
            sheet = await asyncio.to_thread(read, body, media)
            read_rows = Reader(type_name, principal.partner_id, (await names(request)).sites).read(
                sheet
            )
        except UnreadableFile:
            return self._refused(request, type_name, "upload_unreadable")
        except TooManyRows:
            return self._refused(request, type_name, "upload_too_many_rows", status=413)
        session = request.session if "session" in request.scope else {}
        try:
            outcome = await run_import(
                request.app.state.posting,
                principal,
                read_rows.rows,
                dry_run=dry_run or bool(read_rows.errors),
                request_id=request_id_of(request),
                token=bytes.fromhex(str(session.get("token_hash", ""))),
            )
        except Forbidden as exc:
            raise PermissionDeniedException(str(exc)) from None
        except TokenRevoked:
            raise NotAuthorizedException("the token was revoked") from None
        outcome.errors = sorted(
            [*read_rows.errors, *outcome.errors], key=lambda e: (e.row or 0, e.cell or "")
        )
        until = int(time.time()) + CONFIRM_SECONDS
        return render(
            request,
            "upload.html",
            "nav_upload",
            status_code=_status(outcome, dry_run),
            types=IMPORT_TYPES,
            chosen=type_name,
            error=None,
            outcome=outcome,
            rows=read_rows.count,
            dry_run=dry_run,
            preview=_preview(sheet.rows, outcome.errors),
            confirm={
                "type": type_name,
                "media": media,
                "file": base64.urlsafe_b64encode(body).decode(),
                "until": until,
                "seal": _seal(_secret(request), principal, type_name, media, body, until),
            },
            max_rows=MAX_ROWS,
        )


def _status(outcome: Outcome, dry_run: bool) -> int:
    if outcome.errors:
        return 422
    return 201 if not dry_run and outcome.appended_any else 200


def _preview(rows: list[tuple[int, list[Any]]], errors: list[RowError]) -> dict[str, Any]:
    """The sheet as a table: the header, the first rows and every row with an error,
    each error in its cell (or on its row, or above the table for the whole file)."""
    by_cell: dict[tuple[int, str], list[RowError]] = {}
    by_row: dict[int, list[RowError]] = {}
    for error in errors:
        if error.row is None:
            continue
        if error.cell:
            letters = error.cell.rstrip("0123456789")
            by_cell.setdefault((error.row, letters), []).append(error)
        else:
            by_row.setdefault(error.row, []).append(error)
    if not rows:
        return {"header": [], "rows": [], "hidden": 0, "file_errors": errors}
    (header_number, header), body = rows[0], rows[1:]
    # the header's own errors (a column missing or unknown) are the whole file's
    heading = [e for e in errors if e.row == header_number]
    width = max(len(cells) for _, cells in rows)
    shown = [
        (number, cells)
        for index, (number, cells) in enumerate(body)
        if index < PREVIEW_ROWS or number in by_row or any(k[0] == number for k in by_cell)
    ]
    table = []
    for number, cells in shown:
        padded = [*cells, *[None] * (width - len(cells))]
        table.append(
            {
                "number": number,
                "errors": by_row.get(number, []),
                "cells": [
                    {
                        "text": "" if value is None else text(value),
                        "errors": by_cell.get((number, column_letter(i)), []),
                        "ref": f"{column_letter(i)}{number}",
                    }
                    for i, value in enumerate(padded)
                ],
            }
        )
    return {
        "header": [
            "" if value is None else text(value)
            for value in [*header, *[None] * (width - len(header))]
        ],
        "letters": [column_letter(i) for i in range(width)],
        "rows": table,
        "hidden": len(body) - len(shown),
        "file_errors": [e for e in errors if e.row is None] + heading,
    }
