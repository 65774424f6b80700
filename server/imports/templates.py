"""Import templates: a header row of labels in the template's language, the HXL hashtag
row, then example rows marked in the `example` column (the importer skips them).
XLSX templates carry drop-down lists (sectors, sites, population groups) from a
visible second sheet, and whole-number checks on the counts; CSV cannot."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from schemas.codes import POPULATION_GROUPS, SECTORS
from server.imports.columns import COLUMNS, EXAMPLE_HXL, EXAMPLE_LABELS, Column

# rows of an XLSX template that the validations cover (header and HXL rows above)
_VALIDATED_ROWS = 10_002
_SHEETS = {"fa": ("داده‌ها", "فهرست‌ها"), "en": ("data", "lists")}


def _columns(type_name: str) -> list[Column]:
    return [c for c in COLUMNS[type_name] if c.in_template]


def _example_marker(lang: str) -> str:
    return EXAMPLE_LABELS[0] if lang == "fa" else EXAMPLE_LABELS[1]


def _examples(type_name: str, lang: str, sites: Mapping[str, tuple[str, str]]) -> list[list[str]]:
    """Two example rows: the first complete, the second with only what is required."""
    site = next(iter(sites.items()), None)
    sector = next(s for s in SECTORS if s.code == "education")
    full: list[str] = [_example_marker(lang)]
    short: list[str] = [_example_marker(lang)]
    for column in _columns(type_name):
        value = column.example(lang) or column.example("fa")
        if column.kind == "site" and site is not None:
            value = site[1][0] if lang == "fa" else site[1][1]
        elif column.kind == "sector" and value:
            value = sector.label_fa if lang == "fa" else sector.label_en
        full.append(value)
        short.append(value if column.required else "")
    return [full, short]


def header_rows(type_name: str, lang: str) -> tuple[list[str], list[str]]:
    columns = _columns(type_name)
    marker = EXAMPLE_LABELS[0] if lang == "fa" else EXAMPLE_LABELS[1]
    return [marker, *(c.label(lang) for c in columns)], [EXAMPLE_HXL, *(c.hxl for c in columns)]


def csv_template(type_name: str, lang: str, sites: Mapping[str, tuple[str, str]]) -> bytes:
    """UTF-8 with a BOM, so that a spreadsheet opens the Persian as Persian."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    labels, tags = header_rows(type_name, lang)
    writer.writerow(labels)
    writer.writerow(tags)
    writer.writerows(_examples(type_name, lang, sites))
    return out.getvalue().encode("utf-8-sig")


def xlsx_template(
    type_name: str,
    lang: str,
    sites: Mapping[str, tuple[str, str]],
    rows: Sequence[Sequence[object]] = (),
) -> bytes:
    """The template; `rows` (data rows after the examples) make a filled-in sample."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    data_title, lists_title = _SHEETS["fa" if lang == "fa" else "en"]
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = data_title
    sheet.sheet_view.rightToLeft = lang == "fa"
    labels, tags = header_rows(type_name, lang)
    sheet.append(labels)
    sheet.append(tags)
    for example in _examples(type_name, lang, sites):
        sheet.append(example)
    for row in rows:
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number in (3, 4):
        for cell in sheet[number]:
            cell.font = Font(italic=True, color="808080")
    sheet.freeze_panes = "B3"

    lists = workbook.create_sheet(lists_title)
    lists.sheet_view.rightToLeft = lang == "fa"
    choices = {
        "sector": [s.label_fa if lang == "fa" else s.label_en for s in SECTORS],
        "site": [names[0] if lang == "fa" else names[1] for names in sites.values()],
        "population": [p.code for p in POPULATION_GROUPS],
    }
    ranges: dict[str, str] = {}
    for index, (kind, values) in enumerate(choices.items(), start=1):
        letter = get_column_letter(index)
        lists.cell(row=1, column=index, value=kind)
        for offset, value in enumerate(values, start=2):
            lists.cell(row=offset, column=index, value=value)
        if values:
            ranges[kind] = f"'{lists_title}'!${letter}$2:${letter}${len(values) + 1}"

    for index, column in enumerate(_columns(type_name), start=2):
        letter = get_column_letter(index)
        area = f"{letter}3:{letter}{_VALIDATED_ROWS}"
        sheet.column_dimensions[letter].width = max(14, len(column.label(lang)) + 4)
        validation = None
        if column.kind in ranges:
            validation = DataValidation(type="list", formula1=ranges[column.kind], allow_blank=True)
        elif column.kind == "count":
            validation = DataValidation(
                type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True
            )
        elif column.kind == "date":
            # typed dates stay text: a Solar Hijri date is no date to a spreadsheet
            for row_cells in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                for cell in row_cells:
                    cell.number_format = "@"
        if validation is not None:
            validation.error = column.label(lang)
            sheet.add_data_validation(validation)
            validation.add(area)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
