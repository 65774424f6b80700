"""Pledged, committed and disbursed per partner and currency, as rows and as charts
(one per currency: amounts are never converted, so never on one scale). The trends page
and the pledges page draw them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from markupsafe import Markup

from server.web import charts
from server.web.directory import Directory
from server.web.i18n import Locale

MEASURES = ("pledged", "committed", "disbursed")


def money_rows(by_partner: list[dict[str, Any]], partners: tuple[str, ...]) -> list[dict[str, Any]]:
    """Per partner and currency: pledged, committed and disbursed, cancelled pledges out."""
    sums: dict[tuple[str, str], dict[str, Decimal]] = {}
    for r in by_partner:
        if r["status"] == "cancelled" or (partners and r["partner_id"] not in partners):
            continue
        into = sums.setdefault(
            (r["partner_id"], r["currency"]), dict.fromkeys(MEASURES, Decimal(0))
        )
        for m in MEASURES:
            into[m] += Decimal(r[m])
    return [
        {"partner_id": p, "currency": c, **{m: str(v) for m, v in figures.items()}}
        for (p, c), figures in sorted(sums.items(), key=lambda i: (i[0][1], i[0][0]))
    ]


def money_charts(
    rows: list[dict[str, Any]], names: Directory, ui: Locale, title: str
) -> list[tuple[str, Markup]]:
    """One chart per currency (amounts are never converted, so never on one scale)."""
    charts_by: dict[str, list[tuple[str, list[Decimal]]]] = {}
    for r in rows:
        charts_by.setdefault(r["currency"], []).append(
            (ui.name(*names.partner(r["partner_id"])), [Decimal(r[m]) for m in MEASURES])
        )
    return [
        (
            currency,
            charts.grouped_bars(
                groups,
                [ui.t(m) for m in MEASURES],
                ui,
                f"{title} ({currency})",
                currency,
            ),
        )
        for currency, groups in charts_by.items()
    ]
