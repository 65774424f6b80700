"""Wiring of the dashboard: the session cookie and CSRF protection (their secrets derived
from the server's signing key, so every worker and restart agrees), templates, static
files with year-long caching, and HTML error pages."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import jinja2
from cryptography.hazmat.primitives import serialization
from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp

from server.audit.signing import load_or_create_key
from server.config import Settings
from server.projections.reading import NotCaughtUp, PositionBeyondHead
from server.web.access import AccessController
from server.web.analysis import AnalysisPages
from server.web.attestations import VerifyPages
from server.web.delivery_forms import DeliveryForms
from server.web.frame import (
    SESSION_HOURS,
    STATIC_DIR,
    TEMPLATE_DIR,
    authenticate_session,
    html_error,
)
from server.web.ledger import LedgerController
from server.web.meeting_forms import MeetingForms
from server.web.partner_forms import PartnerForms
from server.web.progress import ProgressPages
from server.web.records import RecordsController
from server.web.reports import ReportsPages
from server.web.upload import UploadPages

#: every path the dashboard serves; the bearer-token middleware skips them
WEB_PATHS = (
    r"^/(?:$|(?:sign-in|sign-out|language|static|who-what-where|progress|pledges|commitments"
    r"|partners|meetings|log|audit|gaps|trends|forms|upload|verify)(?:/|$))"
)

SESSION_COOKIE = "hamkari_session"
CSRF_COOKIE = "hamkari_csrf"
YEAR = 365 * 24 * 3600


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


TEMPLATE_CONFIG = TemplateConfig(instance=JinjaTemplateEngine.from_environment(_environment()))


def _session_middleware(app: ASGIApp, config: CookieBackendConfig) -> SessionMiddleware[Any]:
    # built when the stack is: litestar copies routers' middleware definitions, and the
    # backend's cipher cannot be copied
    return SessionMiddleware(app, backend=ClientSideSessionBackend(config=config))


def _secret(settings: Settings, purpose: bytes) -> bytes:
    """A secret for `purpose`, derived from the signing key (HMAC-SHA256 over its raw
    bytes): nothing more to configure or keep, and no way back to the key."""
    key = load_or_create_key(settings.signing_key_path)
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return hmac.new(raw, b"hamkari-web/" + purpose, hashlib.sha256).digest()


def web_routers(settings: Settings) -> list[Router]:
    """The pages (session, CSRF, sign-in check) and the static files (none of those)."""
    secure_cookies = settings.web_secure_cookies
    session = CookieBackendConfig(
        secret=_secret(settings, b"session"),
        key=SESSION_COOKIE,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=secure_cookies,
    )
    csrf = CSRFConfig(
        secret=_secret(settings, b"csrf").hex(),
        cookie_name=CSRF_COOKIE,
        cookie_httponly=True,
        cookie_samesite="strict",
        cookie_secure=secure_cookies,
    )
    pages = Router(
        path="/",
        route_handlers=[
            AccessController,
            ReportsPages,
            ProgressPages,
            RecordsController,
            LedgerController,
            AnalysisPages,
            MeetingForms,
            DeliveryForms,
            PartnerForms,
            UploadPages,
            VerifyPages,
        ],
        # the upload's confirm form is sealed with it (server/web/upload.py)
        opt={"upload_secret": _secret(settings, b"upload")},
        middleware=[
            DefineMiddleware(_session_middleware, config=session),
            DefineMiddleware(CSRFMiddleware, config=csrf),
        ],
        before_request=authenticate_session,
        exception_handlers={
            HTTPException: html_error,
            NotCaughtUp: html_error,
            PositionBeyondHead: html_error,
        },
        include_in_schema=False,
    )
    static = create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(max_age=YEAR, public=True, immutable=True),
        include_in_schema=False,
    )
    return [pages, static]
