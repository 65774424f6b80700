"""Every row error class of an import, and files that are not spreadsheets at all:
each answered with a problem (422 naming row, column and rule in both languages for
rows; 400, 413 or 415 for files), never a 500, and the log head never moves."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook

from server.imports.reading import XLSX
from tests.imports.conftest import EN_HEADER, Importer, csv_file, delivery


def xlsx_file(rows: list[list[Any]], edit: Any = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(EN_HEADER)
    for row in rows:
        sheet.append(row)
    if edit is not None:
        edit(workbook, sheet)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def errors_of(response: Any) -> list[tuple[int | None, str | None, str]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 422 and body["receipts"] == []
    for error in body["errors"]:
        assert error["message_fa"] and error["message_en"]
    return [(e["row"], e["column"], e["rule"]) for e in body["errors"]]


CSV_ROW_ERRORS = {
    "a count that is not a number": (delivery(women="many"), ("women", "not-a-number")),
    "a count with a fraction": (delivery(women="1.5"), ("women", "not-a-whole-number")),
    "a date typed in another format": (
        delivery(start="01/03/2025"),
        ("period_start", "date-format"),
    ),
    "a date that does not exist": (delivery(end="1403/12/31"), ("period_end", "no-such-date")),
    "an unknown sector": (delivery(sector="astronomy"), ("sector", "unknown-sector")),
    "an unknown site name": (delivery(site="Nowhere Centre"), ("site_id", "unknown-site")),
    "an empty required cell": (delivery(activity=""), ("activity", "required")),
    "a rule of the event broken": (delivery(end="2099-01-31"), (None, "delivery-in-future")),
    "a site that is not registered": (delivery(site="khalij-fars"), (None, "unknown-site")),
}


@pytest.mark.parametrize("case", CSV_ROW_ERRORS)
@pytest.mark.parametrize("dry_run", [True, False])
async def test_a_bad_row_is_named_and_nothing_is_appended(
    importer: Importer, case: str, dry_run: bool
) -> None:
    bad, (column, rule) = CSV_ROW_ERRORS[case]
    before = await importer.count()
    body = csv_file([delivery("Fine"), bad])
    found = errors_of(await importer.upload("nrc", body, dry_run=dry_run))
    assert found == [(3, column, rule)]
    assert await importer.count() == before


async def test_every_bad_row_is_listed_not_only_the_first(importer: Importer) -> None:
    body = csv_file([delivery(women="x"), delivery("ok"), delivery(end="2099-01-31", activity="B")])
    found = errors_of(await importer.upload("nrc", body, dry_run=True))
    assert found == [(2, "women", "not-a-number"), (4, None, "delivery-in-future")]


async def test_header_errors_name_the_column(importer: Importer) -> None:
    header = [
        "Site",
        "Sector",
        "Activity",
        "Period start",
        "Period end",
        "wmen",
        "men",
        "girls",
        "boys",
    ]
    found = errors_of(await importer.upload("nrc", csv_file([delivery()], header)))
    assert (1, "wmen", "unknown-column") in found
    assert (1, "women", "missing-column") in found


async def test_the_same_delivery_twice_in_one_file_is_a_row_error(importer: Importer) -> None:
    found = errors_of(await importer.upload("nrc", csv_file([delivery(), delivery(women=1)])))
    assert found == [(3, "delivery_id", "duplicate-row")]


def _merge(_: Any, sheet: Any) -> None:
    sheet.merge_cells("B2:B3")


def _formula(_: Any, sheet: Any) -> None:
    sheet["F3"] = "=F2+1"


def _hidden(workbook: Any, _: Any) -> None:
    workbook.create_sheet("old figures").sheet_state = "hidden"


XLSX_ERRORS = {
    "a merged cell": (_merge, [(2, "sector", "merged-cell"), (3, "sector", "merged-cell")]),
    "a formula": (_formula, [(3, "women", "formula")]),
    "a hidden sheet": (_hidden, [(None, None, "hidden-sheet")]),
}


@pytest.mark.parametrize("case", XLSX_ERRORS)
async def test_spreadsheet_features_that_hide_values_are_row_errors(
    importer: Importer, case: str
) -> None:
    edit, expected = XLSX_ERRORS[case]
    before = await importer.count()
    body = xlsx_file([delivery("A"), delivery("B")], edit)
    assert errors_of(await importer.upload("nrc", body, media=XLSX)) == expected
    assert await importer.count() == before


async def test_an_xlsx_with_sheet_dates_and_numbers_imports(importer: Importer) -> None:
    import datetime

    row = delivery("A", start=datetime.date(2025, 3, 1), end=datetime.datetime(2025, 3, 31))
    row[5] = 12.0
    response = await importer.upload("nrc", xlsx_file([row]), media=XLSX)
    assert response.status_code == 201, response.text


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


BAD_FILES = {
    "text sent as XLSX": (b"site,sector\nx,y\n", XLSX, 400, "unreadable-spreadsheet"),
    "a truncated XLSX": (xlsx_file([delivery()])[:700], XLSX, 400, "unreadable-spreadsheet"),
    "a zip that is no workbook": (_zip({"a.txt": b"hello"}), XLSX, 400, "unreadable-spreadsheet"),
    "a zip bomb": (
        _zip({"xl/workbook.xml": b"<w/>", "xl/worksheets/sheet1.xml": bytes(200 * 2**20)}),
        XLSX,
        400,
        "unreadable-spreadsheet",
    ),
    "an XLSX sent as CSV": (xlsx_file([delivery()]), "text/csv", 400, "unreadable-spreadsheet"),
    "a CSV that is not UTF-8": ("محل".encode("cp1256"), "text/csv", 400, "unreadable-spreadsheet"),
    "JSON": (b'{"type": "ServiceDelivered"}', "application/json", 415, "unsupported-media-type"),
    "an empty file": (b"", "text/csv", 422, "import-refused"),
}


@pytest.mark.parametrize("case", BAD_FILES)
async def test_a_file_that_is_not_a_spreadsheet_is_a_problem(importer: Importer, case: str) -> None:
    body, media, status, slug = BAD_FILES[case]
    before = await importer.count()
    response = await importer.upload("nrc", body, media=media)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/" + slug)
    assert await importer.count() == before


async def test_more_than_ten_thousand_rows_is_refused_whole(importer: Importer) -> None:
    before = await importer.count()
    rows = [delivery(f"Activity {i}") for i in range(10_001)]
    response = await importer.upload("nrc", csv_file(rows))
    assert response.status_code == 413, response.text
    assert response.json()["type"].endswith("/too-many-rows")
    assert await importer.count() == before


async def test_a_rule_the_record_breaks_reads_as_one_sentence(importer: Importer) -> None:
    """The record's own sentence, not a cell's sentence wrapped around it ("The site the
    site ... is not registered is not registered.")."""
    body = csv_file([delivery(site="khalij-fars")])
    response = await importer.upload("nrc", body, dry_run=True)
    [error] = response.json()["errors"]
    assert error["rule"] == "unknown-site"
    assert error["message_en"].count("not registered") == 1, error["message_en"]
    assert "khalij-fars" in error["message_en"] and "unknown-site" in error["message_fa"]
