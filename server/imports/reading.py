"""Reading an uploaded spreadsheet into rows of cells: CSV (UTF-8 or UTF-16) with
python's csv, XLSX with python-calamine. Nothing here knows what the columns mean.

A file that is not what it says, broken, or that would unpack into more than the
limits below is refused whole (UnreadableFile); merged cells, formulas and hidden
sheets are reported where they are, for the row reader to name."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

import python_calamine

from server.imports.cells import Cell, is_blank

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = (CSV, XLSX)

#: The most data rows one import may carry (API.md: up to 10,000, all or nothing).
MAX_ROWS = 10_000
# rows beyond the data a file may hold before it is refused unread: header, HXL row,
# example rows, blank lines
_SLACK_ROWS = 100
# an XLSX unpacks into XML several times its size; a zip bomb into gigabytes
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
MAX_ZIP_ENTRIES = 2000
_FORMULA = re.compile(rb"<(?:[A-Za-z0-9]+:)?f[\s>/]")


class UnreadableFile(Exception):
    """The body is not a spreadsheet of the type it claims, or is broken."""


class TooManyRows(Exception):
    """More data rows than one import may carry."""

    def __init__(self, rows: int) -> None:
        super().__init__(f"more than {MAX_ROWS:,} rows (at least {rows:,})")
        self.rows = rows


@dataclass
class Sheet:
    """The first sheet's rows, each with its 1-based number as the spreadsheet shows it."""

    rows: list[tuple[int, list[Cell]]]
    # (row, column index from 0) -> what is wrong with that cell: "merged-cell", "formula"
    flagged: dict[tuple[int, int], str] = field(default_factory=dict)
    hidden_sheets: list[str] = field(default_factory=list)


def read(body: bytes, media_type: str) -> Sheet:
    if media_type == CSV:
        return _read_csv(body)
    if media_type == XLSX:
        return _read_xlsx(body)
    raise ValueError(f"not a spreadsheet media type: {media_type}")


def _kept(numbered: list[tuple[int, list[Cell]]], cells: list[Cell], number: int) -> None:
    if all(is_blank(c) for c in cells):
        return
    numbered.append((number, cells))
    if len(numbered) > MAX_ROWS + _SLACK_ROWS:
        raise TooManyRows(len(numbered))


# --- CSV ---------------------------------------------------------------------------


def _decoded(body: bytes) -> str:
    """UTF-8 (with or without a BOM), or UTF-16 with a BOM as Excel's "Unicode text" saves."""
    try:
        if body.startswith((b"\xff\xfe", b"\xfe\xff")):
            return body.decode("utf-16")
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("a CSV file must be UTF-8 (or UTF-16 with a BOM)") from None


def _read_csv(body: bytes) -> Sheet:
    if body.startswith(b"PK\x03\x04"):
        raise UnreadableFile("this is an XLSX (zip) file sent as text/csv")
    content = _decoded(body)
    first_line = content.split("\n", 1)[0]
    # Excel writes `;` where the decimal comma is the locale's, a tab in "Unicode text"
    delimiter = max(",;\t", key=first_line.count)
    numbered: list[tuple[int, list[Cell]]] = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(content), delimiter=delimiter), 1):
            _kept(numbered, list(cells), number)
    except csv.Error as exc:
        raise UnreadableFile(f"the CSV file is malformed: {exc}") from None
    return Sheet(rows=numbered)


# --- XLSX --------------------------------------------------------------------------


def _checked_zip(body: bytes) -> bool:
    """Unpack every member within the limits (which checks each one's CRC), before the
    reader sees the file; True when a worksheet holds a formula element."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except (zipfile.BadZipFile, OSError):
        raise UnreadableFile("not an XLSX file (not a zip archive, or a truncated one)") from None
    formulas = False
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_ENTRIES:
            raise UnreadableFile(f"the XLSX file holds {len(members)} parts; too many")
        if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
            raise UnreadableFile("the XLSX file unpacks to more than 128 MiB")
        unpacked = 0
        for member in members:
            try:
                with archive.open(member) as part:
                    # the declared sizes may lie: count what really comes out
                    tail = b""
                    while chunk := part.read(1 << 20):
                        unpacked += len(chunk)
                        if unpacked > MAX_UNPACKED_BYTES:
                            raise UnreadableFile("the XLSX file unpacks to more than 128 MiB")
                        if member.filename.startswith("xl/worksheets/") and not formulas:
                            formulas = bool(_FORMULA.search(tail + chunk))
                            tail = chunk[-16:]
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                raise UnreadableFile(f"the XLSX file is damaged: {exc}") from None
        if "xl/workbook.xml" not in archive.namelist():
            raise UnreadableFile("a zip archive, but not an XLSX workbook")
    return formulas


def _formula_cells(body: bytes) -> set[tuple[int, int]]:
    """Where the first sheet holds formulas, found by openpyxl (calamine reads only the
    cached values, and an uncalculated formula's value may be missing or stale)."""
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=False)
    try:
        found = set()
        for row in workbook.worksheets[0].iter_rows():
            for cell in row:
                if getattr(cell, "data_type", None) == "f":
                    found.add((cell.row, cell.column - 1))
        return found
    finally:
        workbook.close()


def _read_xlsx(body: bytes) -> Sheet:
    has_formulas = _checked_zip(body)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(body))
        with workbook:
            hidden = [
                m.name
                for m in workbook.sheets_metadata
                if m.visible != python_calamine.SheetVisibleEnum.Visible
            ]
            if not workbook.sheet_names:
                raise UnreadableFile("the workbook has no sheet")
            sheet = workbook.get_sheet_by_index(0)
            numbered: list[tuple[int, list[Cell]]] = []
            for index, cells in enumerate(sheet.iter_rows()):
                _kept(numbered, list(cells), index + 1)
            merged = sheet.merged_cell_ranges or []
    except python_calamine.CalamineError as exc:
        raise UnreadableFile(f"the XLSX file cannot be read: {exc}") from None
    flagged: dict[tuple[int, int], str] = {}
    for (top, left), (bottom, right) in merged:
        for row in range(top, min(bottom, top + MAX_ROWS) + 1):
            for column in range(left, min(right, left + 100) + 1):
                flagged[(row + 1, column)] = "merged-cell"
    if has_formulas:
        try:
            flagged.update(dict.fromkeys(_formula_cells(body), "formula"))
        except Exception as exc:  # openpyxl refuses what calamine read: still the file's fault
            raise UnreadableFile(f"the XLSX file cannot be read: {exc}") from None
    return Sheet(rows=numbered, flagged=flagged, hidden_sheets=hidden)
