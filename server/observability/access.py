"""One record per request: counted and timed in /metrics, and written as one JSON line
(request id, principal, route, status, duration) to the `hamkari.access` log.

The middleware notes when a request arrived; the app's `before_send` hook sees every
response, including the problem documents the exception handlers send for errors raised
in middleware (401, 429) and for unknown routes, and finishes the record when the last
body chunk goes out."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.api.request_id import HEADER, SANE
from server.auth.tokens import Principal
from server.observability.metrics import IN_FLIGHT, REQUEST_SECONDS, REQUESTS

access_log = logging.getLogger("hamkari.access")

UNMATCHED = "unmatched"  # one label for every path no route knows: bounded cardinality


def observe_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        scope.setdefault("state", {})["started"] = time.perf_counter()
        IN_FLIGHT.inc()
        try:
            await app(scope, receive, send)
        finally:
            IN_FLIGHT.dec()

    return middleware


def record_responses(*, log_requests: bool) -> Any:
    """The `before_send` hook: finish each request's record as its response ends."""

    async def before_send(message: Message, scope: Scope) -> None:
        if scope["type"] != ScopeType.HTTP:
            return
        state = scope.setdefault("state", {})
        if message["type"] == "http.response.start":
            state["status"] = message["status"]
            # errors answered outside the route's middleware (401, 429, unknown paths)
            # carry the request id too
            headers = MutableScopeHeaders.from_message(message)
            if HEADER not in headers:
                headers[HEADER] = _request_id(scope)
            return
        if message["type"] != "http.response.body" or message.get("more_body", False):
            return
        if state.get("recorded"):
            return
        state["recorded"] = True
        now = time.perf_counter()
        seconds = now - state.get("started", now)
        route = scope.get("path_template") or UNMATCHED
        method = scope.get("method", "")
        status = int(state.get("status", 0))
        REQUESTS.labels(method, route, str(status)).inc()
        REQUEST_SECONDS.labels(method, route).observe(seconds)
        if log_requests:
            access_log.info("request", extra={"fields": _fields(scope, route, status, seconds)})

    return before_send


def _request_id(scope: Scope) -> str:
    state = scope.setdefault("state", {})
    if not state.get("request_id"):
        given = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k.lower() == HEADER.encode()),
            "",
        )
        state["request_id"] = given if SANE.match(given) else str(uuid.uuid4())
    return str(state["request_id"])


def _fields(scope: Scope, route: str, status: int, seconds: float) -> dict[str, Any]:
    user = scope.get("user")
    principal = user if isinstance(user, Principal) else None
    client = scope.get("client")
    return {
        "request_id": scope.get("state", {}).get("request_id"),
        "method": scope.get("method"),
        "route": route,
        "path": scope.get("path"),
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "principal": principal.name if principal else None,
        "role": principal.role.value if principal else None,
        "partner_id": principal.partner_id if principal else None,
        "client": client[0] if client else None,
    }
