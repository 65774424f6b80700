"""One request header, read straight from the ASGI scope.

litestar's `connection.headers` parses every header of the request into a multidict
the first time it is read; for the one header a hot path needs (the token, the
content type, the request id) that was a measurable share of a single post."""

from __future__ import annotations

from litestar.types import Scope


def header(scope: Scope, name: bytes) -> str:
    """The first value of the header `name` (given in lowercase), or ""."""
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""
