"""Every request gets an id: the client's X-Request-Id when it is sane, else a new one.
It is returned in the response header and stored with every event the request appends."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    value = connection.scope.get("state", {}).get("request_id")
    return str(value) if value else str(uuid.uuid4())


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        given = next(
            (
                v.decode("latin-1")
                for k, v in scope["headers"]
                if k.decode("latin-1").lower() == HEADER
            ),
            "",
        )
        request_id = given if SANE.match(given) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)[HEADER] = request_id
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware
