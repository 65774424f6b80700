"""A request body that ends before it is complete: the client hung up mid-body, or sent
a chunked body the ASGI server could not parse. Either is the client's doing: 400.

litestar reads such a body as the client's disconnect and raises a 500 ("client
disconnected prematurely"); the wrapper below turns that disconnect into IncompleteBody
before litestar sees it. A disconnect after the whole body (a live feed's reader going
away) passes through untouched."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send


class IncompleteBody(ClientException):
    status_code = 400
    detail = "the request body ended before it was complete"


def complete_bodies(app: ASGIApp) -> ASGIApp:
    """Middleware: a disconnect while the request body is still arriving is a 400."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        complete = False

        async def checked() -> ReceiveMessage:
            nonlocal complete
            message = await receive()
            if message["type"] == "http.request":
                complete = not message.get("more_body", False)
            elif message["type"] == "http.disconnect" and not complete:
                raise IncompleteBody()
            return message

        await app(scope, checked, send)

    return middleware
