"""The overview's money this month against last: the pledges report's month rows
(`view=months`) of two months, side by side per status and currency.

Nothing is computed here that the report does not say: a figure is a month row's, or
zero when the report has no row for that month."""

from __future__ import annotations

from typing import Any

from server.projections.pledges import STATUSES

FIGURES = ("pledges", "pledged", "disbursements", "disbursed")


def compare_months(
    rows: list[dict[str, Any]], this: str, last: str
) -> dict[str, list[dict[str, Any]]]:
    """Per status: one line per currency with the figures of month `this` and month
    `last` (both `YYYY-MM`, as the rows name them), currencies in order."""
    found = {(r["status"], r["currency"], r["month"]): r for r in rows}
    result: dict[str, list[dict[str, Any]]] = {}
    for status in STATUSES:
        currencies = sorted({c for s, c, m in found if s == status and m in (this, last)})
        lines = []
        for currency in currencies:
            line: dict[str, Any] = {"currency": currency, "status": status}
            for when, month in (("this", this), ("last", last)):
                row = found.get((status, currency, month))
                for figure in FIGURES:
                    zero = 0 if figure in ("pledges", "disbursements") else "0"
                    line[f"{when}_{figure}"] = row[figure] if row is not None else zero
            lines.append(line)
        result[status] = lines
    return result
