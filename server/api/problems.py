"""RFC 9457 problem details: every error the API returns, mapped in one table.

Domain and store errors become one problem `type` and status each; nothing a client
sends ever becomes a 500."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from server.eventstore import EventIdReused, StoreClosed, StoreUnavailable, VersionConflict

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://hamkari.example/problems/"


class Problem(msgspec.Struct, omit_defaults=True, kw_only=True):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None
    current_version: int | None = None


def problem_response(
    status: int, slug: str, title: str, detail: str, **extra: Any
) -> Response[Problem]:
    headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else None
    return Response(
        Problem(type=TYPE_BASE + slug, title=title, status=status, detail=detail, **extra),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("body-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
}


def http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        status = 400
    slug, title = _HTTP_TITLES.get(status, ("http-error", "Request failed"))
    extra: dict[str, Any] = {}
    if isinstance(exc.extra, list) and exc.extra:
        extra["errors"] = [
            {"path": str(e.get("key", "")), "message": str(e.get("message", ""))}
            for e in exc.extra
            if isinstance(e, dict)
        ]
    return problem_response(status, slug, title, str(exc.detail), **extra)


def version_conflict(_: Request[Any, Any, Any], exc: VersionConflict) -> Response[Problem]:
    return problem_response(
        409, "version-conflict", "Version conflict", str(exc), current_version=exc.current
    )


def id_reused(_: Request[Any, Any, Any], exc: EventIdReused) -> Response[Problem]:
    return problem_response(409, "event-id-reused", "Event id reused", str(exc))


def unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    return problem_response(
        503, "database-unavailable", "Service unavailable", str(exc), retry_after=2
    )


def internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "internal", "Internal server error", "an unexpected error")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    HTTPException: http_exception,
    VersionConflict: version_conflict,
    EventIdReused: id_reused,
    StoreUnavailable: unavailable,
    StoreClosed: unavailable,
    Exception: internal,
}
