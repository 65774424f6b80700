"""Headers every answer carries, whoever made it: a route, a problem, a page, a static
file, or the 404 and 405 that no route took. Added as the answer starts, so no path
through the app can leave them out.

- `X-Content-Type-Options: nosniff`: a browser never second-guesses a media type (a
  CSV export or a partner's text rendered as HTML).
- `WWW-Authenticate: Bearer` on a 401 that did not set its own (RFC 9110 requires one;
  RFC 6750 says which): the auth middleware sets `error="invalid_token"` where a token
  was sent."""

from __future__ import annotations

from litestar.types import Message, Scope

NOSNIFF = (b"x-content-type-options", b"nosniff")
BEARER = (b"www-authenticate", b"Bearer")


async def add_answer_headers(message: Message, _scope: Scope) -> None:
    """A `before_send` hook: runs on every message the app sends."""
    if message["type"] != "http.response.start":
        return
    headers = message.setdefault("headers", [])
    # what is there already: a page sets nosniff itself, a 401 may carry its own challenge
    names = {bytes(name).lower() for name, _ in headers}
    if not isinstance(headers, list):  # the ASGI spec allows any iterable
        headers = message["headers"] = list(headers)
    if NOSNIFF[0] not in names:
        headers.append(NOSNIFF)
    if message["status"] == 401 and BEARER[0] not in names:
        headers.append(BEARER)
