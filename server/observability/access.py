"""One record per request: its id, counted and timed in /metrics, and written as one JSON
line (request id, principal, route, status, duration) to the `hamkari.access` log.

`RequestRecorder` is the app's outermost layer for HTTP. create_app installs it around
litestar's own handler rather than as a middleware, so that it sees every answer: the
routes', and the problem documents litestar sends for errors raised before any route
runs (401 from the token check, 429, unknown paths). One layer, one wrapped `send`:
each layer a request passes through costs a single post a measurable share
(docs/benchmarks.md)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from server.api.headers import header
from server.api.request_id import HEADER, request_id_given
from server.auth.tokens import Principal
from server.observability.logs import line_writer
from server.observability.metrics import RequestTally

access_log = logging.getLogger("hamkari.access")

UNMATCHED = "unmatched"  # one label for every path no route knows: bounded cardinality
_HEADER = HEADER.encode()

AccessLine = Callable[[dict[str, Any]], None]


def access_lines() -> AccessLine:
    """Where access lines go: straight to the process's line writer when
    `configure_logging` installed one (a server worker), without building a LogRecord;
    otherwise through the `hamkari.access` logger (an app embedded elsewhere, the tests)."""
    writer = line_writer()
    if writer is None:
        return lambda fields: access_log.info("request", extra={"fields": fields})

    def write(fields: dict[str, Any]) -> None:
        if access_log.isEnabledFor(logging.INFO):
            writer.write(access_log.name, "request", fields)

    return write


class RequestRecorder:
    """Gives each HTTP request its id (the client's X-Request-Id when sane, else a new
    one: in the scope's state for the routes, and in the response's header), and records
    the request as its last body chunk goes out, or when it ends without an answer."""

    __slots__ = ("access", "app", "tally")

    def __init__(self, app: ASGIApp, tally: RequestTally, access: AccessLine | None) -> None:
        self.app = app
        self.tally = tally
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_given(header(scope, _HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (_HEADER, request_id.encode())
        status = 0
        recorded = False

        async def send_recorded(message: Message) -> None:
            nonlocal status, recorded
            fields = cast(dict[str, Any], message)
            kind = fields["type"]
            if kind == "http.response.start":
                status = fields["status"]
                fields["headers"] = [*fields.get("headers", ()), id_header]
            elif kind == "http.response.body" and not fields.get("more_body", False):
                recorded = True
                self._record(scope, request_id, status, started)
            await send(message)

        tally = self.tally
        tally.in_flight += 1
        try:
            await self.app(scope, receive, send_recorded)
        finally:
            tally.in_flight -= 1
            if not recorded:
                self._record(scope, request_id, status, started)

    def _record(self, scope: HTTPScope, request_id: str, status: int, started: float) -> None:
        seconds = time.perf_counter() - started
        route = scope.get("path_template") or UNMATCHED
        self.tally.record(scope["method"], route, status, seconds)
        if self.access is not None:
            self.access(_fields(scope, request_id, route, status, seconds))


def _fields(
    scope: HTTPScope, request_id: str, route: str, status: int, seconds: float
) -> dict[str, Any]:
    user = scope.get("user")
    principal = user if isinstance(user, Principal) else None
    client = scope.get("client")
    return {
        "request_id": request_id,
        "method": scope["method"],
        "route": route,
        "path": scope["path"],
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "principal": principal.name if principal else None,
        "role": principal.role.value if principal else None,
        "partner_id": principal.partner_id if principal else None,
        "client": client[0] if client else None,
    }
