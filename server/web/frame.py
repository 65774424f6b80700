"""What every dashboard page shares: who is signed in (from the session cookie), the
reader's language, the navigation their role may use, and rendering and errors as HTML."""

from __future__ import annotations

import datetime
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.utils.scope.state import ScopeState

from server.auth.permissions import may_read_record
from server.auth.tokens import Principal, Role, look_up
from server.projections.reading import NotCaughtUp, PositionBeyondHead
from server.web import downloads
from server.web.directory import partner_names
from server.web.i18n import LANG_COOKIE, Locale, language_of, latin_digits

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"

SESSION_HOURS = 12
#: the roles that may sign in; admin tokens stay with the API
DASHBOARD_ROLES = frozenset({Role.COORDINATOR, Role.AUDITOR, Role.PARTNER})
OVERSEERS = frozenset({Role.COORDINATOR, Role.AUDITOR})
#: the roles with forms (server/web/writing.py); auditors read only
WRITERS = frozenset({Role.COORDINATOR, Role.PARTNER})
OPEN_PATHS = ("/sign-in", "/language", "/static/")


def _fingerprints() -> dict[str, str]:
    """Static file -> a short hash of its bytes: the URL changes when the file does, so
    the files can be cached for a year."""
    return {
        path.relative_to(STATIC_DIR).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in STATIC_DIR.rglob("*")
        if path.is_file()
    }


FINGERPRINTS = _fingerprints()


def static_url(name: str) -> str:
    return f"/static/{name}?v={FINGERPRINTS[name]}"


ROWS_PER_PAGE = 100


@dataclass(frozen=True)
class Pager:
    """Rows `first`..`last` (1-based) of `total`, on page `page` of `pages`."""

    page: int
    pages: int
    total: int
    first: int
    last: int
    query: str  # the request's other parameters, for the page links

    def link(self, page: int) -> str:
        return f"?{self.query}&page={page}" if self.query else f"?page={page}"


def paginate(
    request: Request[Any, Any, Any], rows: list[Any], size: int = ROWS_PER_PAGE
) -> tuple[list[Any], Pager]:
    """One page of `rows` (`?page=`, from 1): a page of tens of thousands of rows is
    slow to draw and useless to read; totals are computed over all of them."""
    pages = max(1, -(-len(rows) // size))
    try:
        page = min(max(1, int(request.query_params.get("page", "1"))), pages)
    except ValueError:
        page = 1
    start = (page - 1) * size
    shown = rows[start : start + size]
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "page"])
    pager = Pager(page, pages, len(rows), start + 1 if shown else 0, start + len(shown), query)
    return shown, pager


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str


def navigation(principal: Principal) -> list[NavItem]:
    items = [
        NavItem("/", "nav_overview"),
        NavItem("/who-what-where", "nav_www"),
        NavItem("/progress", "nav_progress"),
        NavItem("/gaps", "nav_gaps"),
        NavItem("/trends", "nav_trends"),
        NavItem("/pledges", "nav_pledges"),
        NavItem("/commitments", "nav_commitments"),
    ]
    if principal.role is Role.PARTNER:
        items.append(NavItem(f"/partners/{principal.partner_id}", "nav_my_record"))
    else:
        items.append(NavItem("/partners", "nav_partners"))
    if principal.role in OVERSEERS:
        items.append(NavItem("/log", "nav_log"))
    items.append(NavItem("/audit", "nav_audit"))
    if principal.role in WRITERS:
        items.append(NavItem("/forms", "nav_write"))
        items.append(NavItem("/upload", "nav_upload"))
    return items


def locale_of(request: Request[Any, Any, Any]) -> Locale:
    return Locale(language_of(request.cookies.get(LANG_COOKIE)))


def viewer(request: Request[Any, Any, Any]) -> Principal:
    """The signed-in principal (set by `authenticate_session`)."""
    principal = request.scope.get("state", {}).get("web_principal")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("sign in first")
    return principal


def require_overseer(principal: Principal) -> None:
    if principal.role not in OVERSEERS:
        raise PermissionDeniedException("only coordinators and auditors read the log")


def require_own_record(principal: Principal, partner_id: str) -> None:
    if not may_read_record(principal, partner_id):
        raise PermissionDeniedException(f"a partner sees its own record only, not {partner_id!r}")


async def principal_for_hash(pool: asyncpg.Pool, token_hash: bytes) -> Principal | None:
    """The principal of an active token, by its hash: the session keeps only the hash,
    and a revoked token ends every session signed in with it."""
    principal = await look_up(pool, token_hash)
    return principal if principal is not None and principal.role in DASHBOARD_ROLES else None


async def authenticate_session(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """before_request of every page: who is signed in, or off to the sign-in page."""
    path = request.url.path
    if path.startswith(OPEN_PATHS):
        return None
    session = request.session if "session" in request.scope else {}
    token_hash = session.get("token_hash")
    since = session.get("since", 0)
    principal = None
    if isinstance(token_hash, str) and time.time() - float(since) < SESSION_HOURS * 3600:
        principal = await principal_for_hash(request.app.state.pool, bytes.fromhex(token_hash))
    if principal is None:
        request.clear_session()
        return Redirect("/sign-in", status_code=303)
    state = request.scope.setdefault("state", {})
    state["web_principal"] = principal
    if principal.partner_id is not None:
        state["web_partner_names"] = await partner_names(
            request.app.state.pool, principal.partner_id
        )
    return None


def asked_position(request: Request[Any, Any, Any]) -> int | None:
    """`?at_position=N` (in any digits): the page as the log stood at position N."""
    text = request.query_params.get("at_position")
    if text is None or not text.strip():
        return None
    value = latin_digits(text.strip())
    if not value.isascii() or not value.isdigit():
        raise ValidationException(f"at_position must be a whole number, not {text!r}")
    return int(value)


async def recorded_at(pool: asyncpg.Pool, position: int) -> datetime.datetime | None:
    """When the event at `position` was appended (None before the first event)."""
    moment = await pool.fetchval("SELECT recorded_at FROM events WHERE position = $1", position)
    return moment if isinstance(moment, datetime.datetime) else None


async def page(
    request: Request[Any, Any, Any],
    template: str,
    title: str,
    *,
    as_of: int,
    at: int | None = None,
    tables: Mapping[str, downloads.Table] | None = None,
    **context: Any,
) -> Response[Any]:
    """A page of figures: said to be as of position `as_of` and its time in Tehran, with a
    banner when it shows a past position (`at`, from `asked_position`), and each of its
    `tables` offered as a file (which `?download=` answers instead of the page)."""
    tables = tables or {}
    stem = template.removesuffix(".html").replace("_", "-")
    file = downloads.answer(request, tables, stem, as_of)
    if file is not None:
        return file
    return render(
        request,
        template,
        title,
        as_of=as_of,
        as_of_time=await recorded_at(request.app.state.pool, as_of),
        historical=at is not None,
        downloads=downloads.links(request, tables),
        **context,
    )


def csrf_token(request: Request[Any, Any, Any]) -> str:
    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


def render(
    request: Request[Any, Any, Any],
    template: str,
    title: str,
    *,
    as_of: int | None = None,
    status_code: int = 200,
    principal: Principal | None = None,
    **context: Any,
) -> Template:
    ui = locale_of(request)
    state = request.scope.get("state", {})
    if principal is None:
        principal = state.get("web_principal")
    own = state.get("web_partner_names")
    # the same page now, and the same page frozen at the position it shows
    others = [(k, v) for k, v in request.query_params.multi_items() if k != "at_position"]
    now_query = urlencode(others)
    frozen_query = urlencode([*others, ("at_position", str(as_of))])
    return Template(
        template_name=template,
        context={
            "ui": ui,
            "title": ui.t(title),
            "principal": principal,
            # the header names a partner's organisation, in the reader's language
            "organisation": ui.name(*own) if own else (principal and principal.partner_id),
            "nav": navigation(principal) if principal else [],
            "path": request.url.path,
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "csrf": csrf_token(request),
            "static": static_url,
            "as_of": as_of,
            "now_link": request.url.path + (f"?{now_query}" if now_query else ""),
            "frozen_link": f"{request.url.path}?{frozen_query}",
            "as_of_time": None,
            "historical": False,
            "downloads": {},
            **context,
        },
        status_code=status_code,
        headers=PAGE_HEADERS,
    )


# Nothing from elsewhere, ever: the policy enforces what the pages promise. Style
# attributes draw the fulfilment bars; the one script is served from here.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

_ERROR_LABELS = {400: "bad_request", 403: "forbidden", 404: "not_found"}


def html_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Errors on a page are pages: 401 sends the reader to sign in, others explain."""
    if isinstance(exc, NotAuthorizedException):
        return Redirect("/sign-in", status_code=303)
    if isinstance(exc, PositionBeyondHead):
        status, detail = 400, str(exc)
    elif isinstance(exc, NotCaughtUp):
        status, detail = 503, str(exc)
    elif isinstance(exc, HTTPException):
        status, detail = exc.status_code, exc.detail
    else:
        raise exc
    label = _ERROR_LABELS.get(status, "error")
    # a page's own errors name a label that says in the reader's words what to fix
    extra = exc.extra if isinstance(exc, HTTPException) else None
    hint = extra.get("label") if isinstance(extra, dict) else None
    return render(
        request,
        "error.html",
        "error",
        status_code=status,
        message=label,
        hint=hint,
        detail=detail,
    )
