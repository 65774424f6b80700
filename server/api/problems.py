"""RFC 9457 problem details: every error the API returns, mapped in one table.

Domain and store errors become one problem `type` and status each; nothing a client
sends ever becomes a 500."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from schemas.problems import Problem, ProblemError
from server.aggregates.base import RuleBroken
from server.auth.permissions import Forbidden
from server.eventstore import EventIdReused, StoreClosed, StoreUnavailable, VersionConflict
from server.eventstore.appender import UNAVAILABLE

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://hamkari.example/problems/"
RULE_BASE = TYPE_BASE + "rules/"


class ProblemDetail(Exception):
    """Raised anywhere in the API layer to answer with one problem document."""

    def __init__(self, status: int, slug: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.extra = extra


def problem_response(
    status: int, slug: str, title: str, detail: str, **extra: Any
) -> Response[Problem]:
    retry_after = extra.pop("retry_after", None)
    errors = extra.pop("errors", None)
    type_uri = extra.pop("type_uri", None) or TYPE_BASE + slug
    headers: dict[str, str] = extra.pop("headers", None) or {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(
        Problem(
            type=type_uri,
            title=title,
            status=status,
            detail=detail,
            errors=[ProblemError(**e) for e in errors] if errors else None,
            **extra,
        ),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers or None,
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
    503: ("unavailable", "Service unavailable"),
}


def http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        status = 400
    if status >= 500:
        return internal(request, exc)
    slug, title = _HTTP_TITLES.get(status, ("http-error", "Request failed"))
    errors = None
    if isinstance(exc.extra, list) and exc.extra:
        errors = [
            {"path": str(e.get("key", "")), "message": str(e.get("message", ""))}
            for e in exc.extra
            if isinstance(e, dict)
        ]
    # the exception's own headers go out with the problem: Retry-After, and the RFC 6750
    # challenge of a 401 (server/auth/middleware.py)
    headers = dict(exc.headers or {})
    extra: dict[str, Any] = {"errors": errors, "headers": headers}
    if "Retry-After" in headers:
        extra["retry_after"] = headers.pop("Retry-After")
    if status == 405:
        # RFC 9110: a 405 says which methods the resource has (litestar's router names
        # them; its static files router does not)
        allowed = _allowed(request, exc)  # reads the exception's own Allow, if any
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        headers["Allow"] = allowed
        extra["headers"] = headers
    return problem_response(status, slug, title, str(exc.detail), **extra)


def _allowed(request: Request[Any, Any, Any], exc: HTTPException) -> str:
    given = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow")
    if given:
        return str(given)
    handler = request.scope.get("route_handler")
    methods = sorted(getattr(handler, "http_methods", None) or ("GET", "HEAD"))
    return ", ".join(methods)


def problem_detail(_: Request[Any, Any, Any], exc: ProblemDetail) -> Response[Any]:
    body = exc.extra.get("body")
    if body is not None:
        # a problem that is also an answer of its own (an import's report), which
        # carries `type`, `title`, `status` and `detail` among its members
        return Response(body, status_code=exc.status, media_type=PROBLEM_JSON)
    return problem_response(exc.status, exc.slug, exc.title, exc.detail, **exc.extra)


def rule_broken(_: Request[Any, Any, Any], exc: RuleBroken) -> Response[Problem]:
    return problem_response(
        422,
        exc.rule,
        "Rule broken: " + exc.rule.replace("-", " "),
        str(exc),
        type_uri=RULE_BASE + exc.rule,
    )


def forbidden(_: Request[Any, Any, Any], exc: Forbidden) -> Response[Problem]:
    return problem_response(403, "forbidden", "Forbidden", str(exc))


def version_conflict(_: Request[Any, Any, Any], exc: VersionConflict) -> Response[Problem]:
    return problem_response(
        409, "version-conflict", "Version conflict", str(exc), current_version=exc.current
    )


def id_reused(_: Request[Any, Any, Any], exc: EventIdReused) -> Response[Problem]:
    return problem_response(409, "event-id-reused", "Event id reused", str(exc))


def unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    return problem_response(
        503,
        "database-unavailable",
        "Service unavailable",
        f"{exc}; retrying with the same event ids is safe",
        retry_after=2,
    )


def database_down(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """A read or a lookup (a token, a report) that lost the database: 503, never 500."""
    log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
    return problem_response(
        503,
        "database-unavailable",
        "Service unavailable",
        "the database is unavailable; retry after the time in Retry-After",
        retry_after=2,
    )


def internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "internal", "Internal server error", "an unexpected error")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    HTTPException: http_exception,
    ProblemDetail: problem_detail,
    RuleBroken: rule_broken,
    Forbidden: forbidden,
    VersionConflict: version_conflict,
    EventIdReused: id_reused,
    StoreUnavailable: unavailable,
    StoreClosed: unavailable,
    **dict.fromkeys(UNAVAILABLE, database_down),
    Exception: internal,
}
