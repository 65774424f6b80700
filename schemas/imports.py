"""The answer to a spreadsheet import (`POST /v1/imports`): what the file held, what it
appended or would append, and every row error in both languages."""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from schemas.envelope import Receipt


class ImportRowError(Struct, frozen=True, kw_only=True):
    """One thing wrong in the file. `row` and `cell` are as the spreadsheet shows them
    (`row` null: the whole file); `column` is the field in `data` (`women`,
    `period_start`) or the header as written; `rule` is a stable slug. `path` and
    `message` repeat the place and the English message in the shape every other
    problem document's `errors` has."""

    row: int | None
    column: str | None
    rule: str
    message_fa: str
    message_en: str
    cell: str | None = None
    path: str
    message: str


class ImportChange(Struct, frozen=True, kw_only=True):
    """A field of an already recorded delivery that the file changes: `old` -> `new`."""

    row: int
    delivery_id: str
    field: str
    old: Any
    new: Any


class ImportReport(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """`rows` data rows read; of them `new` and `corrected` are (or in a dry run would
    be) appended, `unchanged` are already in the log as the file has them. `receipts`
    holds one receipt per appended event, in row order (empty in a dry run). With any
    error nothing is appended, and the answer is a 422 problem document carrying these
    same members besides `type`, `title`, `status` and `detail`."""

    rows: int
    new: int
    corrected: int
    unchanged: int
    errors: list[ImportRowError]
    receipts: list[Receipt]
    changes: list[ImportChange]
    dry_run: bool
    type: str | None = None
    title: str | None = None
    status: int | None = None
    detail: str | None = None
