"""Every request gets an id: the client's X-Request-Id when it is sane, else a new one.
It is returned in the response header and stored with every event the request appends;
the request recorder (server/observability/access.py) gives it."""

from __future__ import annotations

import itertools
import os
import re
import uuid
from typing import Any

from litestar.connection import ASGIConnection

HEADER = "x-request-id"
SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_given(given: str) -> str:
    """The id of a request whose X-Request-Id header is `given` ("" when absent)."""
    return given if given and SANE.match(given) else new_request_id()


def request_id_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    value = connection.scope.get("state", {}).get("request_id")
    return str(value) if value else new_request_id()


# A new id is a version-4 UUID: a random one drawn once per process, whose last 48 bits
# count up. As unique as uuid4() within a process and random across processes, without
# uuid4()'s system call for 16 random bytes on every request.
_prefix = ""
_counter = itertools.count()


def _draw_prefix() -> None:
    global _prefix, _counter
    _prefix = str(uuid.uuid4())[:24]
    _counter = itertools.count(int.from_bytes(os.urandom(6)))


_draw_prefix()
os.register_at_fork(after_in_child=_draw_prefix)  # each worker its own


def new_request_id() -> str:
    return f"{_prefix}{next(_counter) & 0xFFFF_FFFF_FFFF:012x}"
