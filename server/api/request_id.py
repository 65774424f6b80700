"""Every request gets an id: the client's X-Request-Id when it is sane, else a new one.
It is returned in the response header and stored with every event the request appends;
the request recorder (server/observability/access.py) gives it."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.connection import ASGIConnection

HEADER = "x-request-id"
SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    value = connection.scope.get("state", {}).get("request_id")
    return str(value) if value else str(uuid.uuid4())
