"""Row errors of an import, and what each rule says in Persian and English.

The rules of the events themselves (`delivery-in-future`, ...) keep their slugs and
the server's English detail; their Persian message says which rule in a sentence."""

from __future__ import annotations

from dataclasses import dataclass

# rule -> (Persian, English); `{detail}` is what the cell held or the server said
MESSAGES: dict[str, tuple[str, str]] = {
    "missing-column": ("ستون «{detail}» در فایل نیست.", "The column {detail!s} is missing."),
    "unknown-column": (
        "ستون «{detail}» شناخته نشد؛ عنوان‌های الگو را به کار ببرید.",
        "The column {detail!s} is not known; use the template's headings.",
    ),
    "duplicate-column": (
        "ستون «{detail}» دو بار آمده است.",
        "The column {detail!s} appears twice.",
    ),
    "required": ("این خانه نباید خالی باشد.", "This cell must not be empty."),
    "not-a-number": ("«{detail}» عدد نیست.", "{detail!s} is not a number."),
    "not-a-whole-number": ("«{detail}» عدد صحیح نیست.", "{detail!s} is not a whole number."),
    "date-format": (
        "تاریخ «{detail}» خوانده نشد؛ به شکل ۱۴۰۵/۰۸/۰۱ یا 2026-10-23 بنویسید.",
        "The date {detail!s} cannot be read; write it as 1405/08/01 or 2026-10-23.",
    ),
    "no-such-date": ("تاریخ «{detail}» وجود ندارد.", "There is no date {detail!s}."),
    "unknown-sector": ("بخش «{detail}» شناخته نشد.", "The sector {detail!s} is not known."),
    "unknown-site": (
        "محل «{detail}» ثبت نشده است.",
        "The site {detail!s} is not registered.",
    ),
    "unknown-population-group": (
        "گروه جمعیتی «{detail}» شناخته نشد.",
        "The population group {detail!s} is not known.",
    ),
    "not-free-of-charge": (
        "خدمات همکاری همه رایگان‌اند؛ این ستون را خالی بگذارید یا «بله» بنویسید.",
        "Every service recorded here is free of charge; leave the column empty or write yes.",
    ),
    "merged-cell": (
        "این خانه ادغام‌شده است؛ ادغام را بردارید و مقدار را در هر ردیف بنویسید.",
        "This cell is merged; unmerge it and write the value in every row.",
    ),
    "formula": (
        "این خانه فرمول دارد؛ مقدار را به‌جای فرمول بنویسید (کپی و «چسباندن مقدار»).",
        "This cell holds a formula; put the value instead (copy, then paste values).",
    ),
    "hidden-sheet": (
        "برگهٔ پنهان «{detail}» در فایل هست؛ آن را آشکار یا حذف کنید.",
        "The file has a hidden sheet, {detail!s}; show it or delete it.",
    ),
    "invalid-value": ("مقدار این خانه پذیرفته نیست: {detail}", "This value is refused: {detail!s}"),
    "duplicate-row": (
        "این ردیف همان ارائه خدمتِ ردیف {detail} است (همان محل، بخش، فعالیت و دوره).",
        "This row is the same delivery as row {detail!s} (same site, sector, activity, period).",
    ),
    "no-rows": ("فایل هیچ ردیف داده‌ای ندارد.", "The file holds no data rows."),
}


@dataclass(frozen=True)
class RowError:
    """One thing wrong in the file: where (row and column as the spreadsheet shows
    them; row None for the whole file) and which rule, in both languages."""

    row: int | None
    column: str | None
    rule: str
    message_fa: str
    message_en: str
    cell: str | None = None


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


RULE_BROKEN = ("قاعدهٔ «{rule}» رعایت نشده است: {detail}", "{detail!s}")


def row_error(
    row: int | None,
    column: str | None,
    rule: str,
    detail: str = "",
    *,
    index: int | None = None,
    broken: bool = False,
) -> RowError:
    """A row's error in both languages. `broken`: the record refused the row's event,
    and `detail` is its whole sentence; otherwise `detail` is the cell's value, which
    the rule's own sentence quotes (a slug may be both: `unknown-site`)."""
    fa, en = RULE_BROKEN if broken else MESSAGES.get(rule, RULE_BROKEN)
    fields = {"detail": detail, "rule": rule}
    cell = None if row is None or index is None else f"{column_letter(index)}{row}"
    return RowError(row, column, rule, fa.format(**fields), en.format(**fields), cell)
