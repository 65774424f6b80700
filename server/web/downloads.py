"""Every table of a page as a file: CSV, HXL (CSV with a hashtag row) or XLSX, of exactly
the rows the page shows, through the same writers (and formula escaping) as the reports.

A page names its tables (`Table`: columns with HXL hashtags, and the rows it draws);
`?download=<table>&format=csv|hxl|xlsx` on the page's own address answers with the file,
so a download carries the page's filters, page number and `at_position` as they are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response
from litestar.exceptions import ValidationException

from server.projections import formats
from server.web.directory import Directory
from server.web.i18n import Locale

FILE_FORMATS = ("csv", "hxl", "xlsx")
_CSV = "text/csv; charset=utf-8"

#: name columns added to a download, read from the code column beside them
PARTNER_NAME = ("partner_name", "#org+name")
SITE_NAME = ("site_name", "#loc+name")
SECTOR_NAME = ("sector_name", "#sector+name")


@dataclass(frozen=True)
class Table:
    """A table as a page draws it: `columns` (name, HXL hashtag) and its `rows`."""

    columns: formats.Columns
    rows: Sequence[Mapping[str, Any] | msgspec.Struct]


def named(
    rows: Sequence[Mapping[str, Any] | msgspec.Struct],
    ui: Locale,
    names: Directory,
    *,
    partner: str | None = "partner_id",
    site: str | None = "site_id",
    sector: str | None = "sector",
) -> list[dict[str, Any]]:
    """The rows with the names a page shows beside their codes, in the reader's
    language (`partner_name`, `site_name`, `sector_name`): a download reads as the page."""
    out = []
    for row in rows:
        values = dict(row) if isinstance(row, Mapping) else msgspec.structs.asdict(row)
        if partner is not None:
            values["partner_name"] = ui.name(*names.partner(values.get(partner)))
        if site is not None and values.get(site) is not None:
            values["site_name"] = ui.name(*names.site(values.get(site)))
        if sector is not None and values.get(sector) is not None:
            values["sector_name"] = ui.sector(values.get(sector))
        out.append(values)
    return out


def links(request: Request[Any, Any, Any], tables: Mapping[str, Table]) -> dict[str, list[Any]]:
    """Table -> [(format, address)]: the page's own address and parameters, plus the
    table and the format."""
    params = request.query_params.multi_items()
    kept = [(k, v) for k, v in params if k not in ("download", "format")]
    return {
        name: [
            (fmt, "?" + urlencode([*kept, ("download", name), ("format", fmt)]))
            for fmt in FILE_FORMATS
        ]
        for name in tables
    }


def answer(
    request: Request[Any, Any, Any], tables: Mapping[str, Table], stem: str, as_of: int
) -> Response[Any] | None:
    """The file asked for with `?download=`, or None when the page itself was asked."""
    wanted = request.query_params.get("download")
    if wanted is None:
        return None
    table = tables.get(wanted)
    fmt = request.query_params.get("format", "csv")
    if table is None or fmt not in FILE_FORMATS:
        raise ValidationException(
            f"download takes one of {', '.join(tables) or 'no table here'}"
            f" and format one of {', '.join(FILE_FORMATS)}"
        )
    filename = f"{stem}-{wanted}-{as_of}"
    headers = {"X-As-Of-Position": str(as_of), "Cache-Control": "no-store"}
    if fmt == "xlsx":
        body: str | bytes = formats.to_xlsx(table.rows, table.columns, sheet=wanted)
        media = formats.XLSX
    else:
        body = formats.to_csv(table.rows, table.columns, hxl=fmt == "hxl")
        media = _CSV
        if fmt == "hxl":
            filename += "-hxl"
    extension = "xlsx" if fmt == "xlsx" else "csv"
    headers["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
    return Response(body, media_type=media, headers=headers)
