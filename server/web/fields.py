"""The fields a form draws (form_macros.html `field`), the choices they offer in the
reader's language (sites, sectors, partners, population groups, currencies), and the
drawing of a form page with its date and month pickers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.response import Template

from schemas.codes import POPULATION_GROUPS, SECTORS
from server.projections.commitments import today_in_tehran
from server.projections.model import Conn
from server.projections.periods import format_month, month_key
from server.projections.reading import ReportReader
from server.web.days import day_choices, typed_day
from server.web.directory import Directory, directory
from server.web.frame import locale_of, render
from server.web.i18n import Locale
from server.web.reports import month_choices
from server.web.writing import Draft

# the currencies offered first; the contract takes any ISO 4217 code
CURRENCIES = ("IRR", "USD", "EUR", "GBP", "NOK", "SEK", "DKK", "CHF", "JPY", "CAD", "AUD")
SEXES = ("f", "m", "x")
BANDS = ("0-4", "5-11", "12-17", "18-59", "60+", "unknown")
COUNTS = ("women", "men", "girls", "boys")


@dataclass(frozen=True)
class Field:
    """One field: `name` is the form's (and, where it is one, the event data's) name,
    `label` a key of LABELS, `kind` how it is drawn and read."""

    name: str
    label: str
    kind: str = "text"
    required: bool = True
    options: tuple[tuple[str, str], ...] = ()


async def names(request: Request[Any, Any, Any]) -> Directory:
    """The registered partners and sites, as the directory projection has them now."""
    reader: ReportReader = request.app.state.reports

    async def query(conn: Conn, tables: Any) -> Directory:
        return await directory(conn, tables)

    return (await reader.read_live(("directory",), query)).body


def site_options(ui: Locale, found: Directory) -> tuple[tuple[str, str], ...]:
    return tuple((sid, ui.name(*pair)) for sid, pair in found.sites.items())


def partner_options(ui: Locale, found: Directory) -> tuple[tuple[str, str], ...]:
    return tuple((pid, ui.name(*pair)) for pid, pair in found.partners.items())


def sector_options(ui: Locale) -> tuple[tuple[str, str], ...]:
    return tuple((code.code, ui.sector(code.code)) for code in SECTORS)


def population_options(ui: Locale) -> tuple[tuple[str, str], ...]:
    return tuple(
        (c.code, f"{c.label_fa if ui.lang == 'fa' else c.label_en} ({c.code})")
        for c in POPULATION_GROUPS
    )


def currency_options() -> tuple[tuple[str, str], ...]:
    return tuple((code, code) for code in CURRENCIES)


def draw(
    request: Request[Any, Any, Any],
    template: str,
    title: str,
    draft: Draft,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A form page: refused forms are 422, with every field as it was typed."""
    ui = locale_of(request)
    today = today_in_tehran()
    return render(
        request,
        template,
        title,
        status_code=422 if draft.failed and status_code == 200 else status_code,
        form=draft,
        days=day_choices(ui, today),
        date_example=typed_day(ui, today),
        months=month_choices(ui, month_key(today, ui.calendar)),
        example_month=ui.digits(format_month(month_key(today, ui.calendar))),
        **context,
    )
