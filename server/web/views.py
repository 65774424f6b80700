"""Shareable views: the filters of the deliveries pages (who-what-where, gaps, trends)
read from the address, where they stay, so a view can be sent as a link.

Partners, sectors and sites are repeatable (`?partner=nrc&partner=drc`: any of them),
months are a range (`from`, `to`) in the page's calendar, typed in any digits. A value
that cannot be one (a partner id with a space, a sector not in the code list) is a 400
page, before anything is read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.exceptions import ValidationException

from schemas.codes import SECTORS
from server.projections.deliveries import Choice, Filters
from server.projections.periods import Period, format_month
from server.web.directory import Directory
from server.web.i18n import Locale, typed_month

_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
SECTOR_CODES = tuple(code.code for code in SECTORS)
#: more choices than this in one filter is not a view anyone shares
MOST_CHOSEN = 200
#: the repeatable filters read_view takes from the address
FILTERS = ("partner", "sector", "site")
#: the route option of a page that reads them (its handler does not name them, so the
#: suite's sweep of hostile filters finds the page by this: tests/web/test_bad_filters.py)
SHAREABLE = {"shareable_view": True}


@dataclass(frozen=True)
class View:
    """What the address asked for: the choices as lists (for the form), the months as
    the reader typed them (shown back in the reader's digits) and the filters."""

    partners: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    months: dict[str, str] = field(default_factory=dict)
    filters: Filters = field(default_factory=Filters)

    def described(self) -> bool:
        """Whether anything narrows the view (the page says so)."""
        return bool(self.partners or self.sectors or self.sites)


def _chosen(request: Request[Any, Any, Any], name: str, valid: Any, what: str) -> tuple[str, ...]:
    values: list[str] = []
    for raw in request.query_params.getall(name, []):
        value = raw.strip()
        if not value:
            continue  # the form's "all"
        if not valid(value):
            raise ValidationException(f"{name}={raw!r} is not {what}")
        if value not in values:
            values.append(value)
    if len(values) > MOST_CHOSEN:
        raise ValidationException(f"at most {MOST_CHOSEN} values of {name}")
    return tuple(values)


def _choice(values: tuple[str, ...]) -> Choice:
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def read_view(request: Request[Any, Any, Any], ui: Locale, period: Period) -> View:
    """The view the address asks for; `period` is the month range already read (the
    pages read months through one function, `reports._period`)."""
    slug = _SLUG.fullmatch
    partners = _chosen(request, "partner", slug, "a partner_id")
    sites = _chosen(request, "site", slug, "a site_id")
    sectors = _chosen(request, "sector", SECTOR_CODES.__contains__, "a sector code")
    months = {
        name: ui.digits(typed_month(request.query_params.get(name)) or "")
        for name in ("from", "to")
    }
    return View(
        partners=partners,
        sectors=sectors,
        sites=sites,
        months=months,
        filters=Filters(
            period=period,
            partner=_choice(partners),
            site=_choice(sites),
            sector=_choice(sectors),
        ),
    )


def month_range(ui: Locale, period: Period) -> dict[str, str]:
    """A period's bounds as a form shows them, in the reader's digits."""
    return {
        "from": ui.digits(format_month(period.first)) if period.first else "",
        "to": ui.digits(format_month(period.last)) if period.last else "",
    }


def choices(ui: Locale, names: Directory) -> dict[str, list[tuple[str, str]]]:
    """The filters' options, (value, name in the reader's language), by name."""
    return {
        "partner": [(p, ui.name(*names.partner(p))) for p in names.partners],
        "sector": [(code, ui.sector(code)) for code in SECTOR_CODES],
        "site": [(s, ui.name(*names.site(s))) for s in names.sites],
    }
