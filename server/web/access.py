"""Signing in (a token exchanged for a session cookie), signing out, and choosing the
language. Every form here carries the CSRF token; the session keeps the token's hash."""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from msgspec import Struct

from server.auth.tokens import Role, hash_token
from server.web.frame import DASHBOARD_ROLES, SESSION_HOURS, principal_for_hash, render
from server.web.i18n import LANG_COOKIE, language_of

LANG_COOKIE_SECONDS = 365 * 24 * 3600


class SignInForm(Struct, kw_only=True):
    token: str = ""


class LanguageForm(Struct, kw_only=True):
    lang: str = "fa"
    next: str = "/"


Form = Body(media_type=RequestEncodingType.URL_ENCODED)


# months are written in the page's calendar: they mean nothing in the other language's
CALENDAR_PARAMETERS = frozenset({"month", "from", "to"})


def safe_next(target: str) -> str:
    """Only a path on this site (never an open redirect), without its months."""
    # browsers drop tabs and newlines from URLs: "/\t/evil.example" would become "//..."
    if (
        not target.startswith("/")
        or "\\" in target
        or any(c <= " " or c == "\x7f" for c in target)
        or target.startswith("//")
    ):
        return "/"
    path, _, query = target.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query) if k not in CALENDAR_PARAMETERS]
    return path + (f"?{urlencode(kept)}" if kept else "")


class AccessController(Controller):
    path = "/"
    include_in_schema = False

    @get("/sign-in")
    async def sign_in_page(self, request: Request[Any, Any, Any]) -> Template:
        return render(request, "sign_in.html", "sign_in", error=None)

    @post("/sign-in", status_code=303)
    async def sign_in(
        self, request: Request[Any, Any, Any], data: Annotated[SignInForm, Form]
    ) -> Redirect | Template:
        token = data.token.strip()
        principal = None
        if 0 < len(token) <= 128:
            principal = await principal_for_hash(request.app.state.pool, hash_token(token))
        if principal is None:
            role = await request.app.state.pool.fetchval(
                "SELECT role FROM tokens WHERE token_hash = $1 AND revoked_at IS NULL",
                hash_token(token),
            )
            error = "sign_in_admin" if role == Role.ADMIN.value else "sign_in_failed"
            return render(request, "sign_in.html", "sign_in", status_code=401, error=error)
        assert principal.role in DASHBOARD_ROLES
        # a new session on every sign-in: nothing from before it carries over
        request.clear_session()
        request.set_session({"token_hash": hash_token(token).hex(), "since": time.time()})
        return Redirect("/", status_code=303)

    @post("/sign-out", status_code=303)
    async def sign_out(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect("/sign-in", status_code=303)

    @post("/language", status_code=303)
    async def language(self, data: Annotated[LanguageForm, Form]) -> Redirect:
        response = Redirect(safe_next(data.next), status_code=303)
        response.set_cookie(
            LANG_COOKIE,
            language_of(data.lang),
            max_age=LANG_COOKIE_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
        )
        return response


__all__ = ["SESSION_HOURS", "AccessController"]
