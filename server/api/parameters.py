"""The query, path and header values the API and the dashboard take, each declared once
with the bounds the server enforces: positions within 0..2^53-1, slugs, stream names,
months, time-zone-aware timestamps.

Declared as litestar parameters, so the OpenAPI document says exactly what is refused
(400 before the handler runs), and no NUL, stray control character or number past
PostgreSQL's bigint ever reaches a query."""

from __future__ import annotations

import datetime
from typing import Any

from litestar.exceptions import ValidationException
from litestar.params import ParameterKwarg, PathParameter, QueryParameter

from schemas.common import MAX_SAFE_INT

SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
#: a stream is `periods` or `<kind>-<id>`, the id a slug or a lowercase UUID
#: (schemas.events.stream_of); anything else cannot name one
STREAM = r"^(periods|[a-z]+-[a-z0-9]+(-[a-z0-9]+)*)$"
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
#: the dashboard's filter forms send a field left at "all" as an empty value
BLANK_OR_SLUG = r"^ *([a-z0-9]+(-[a-z0-9]+)*)? *$"
BLANK_OR_STREAM = r"^ *(periods|[a-z]+-[a-z0-9]+(-[a-z0-9]+)*)? *$"
BLANK_OR_CODE = r"^ *([a-z_]+)? *$"


def blank_or(pattern: str, description: str) -> Any:
    """A dashboard filter: `pattern`, or blank for "all"."""
    return QueryParameter(pattern=pattern, max_length=100, description=description)


def _kind(path: bool) -> type[ParameterKwarg]:
    return PathParameter if path else QueryParameter


def position(
    description: str, *, minimum: int = 0, name: str | None = None, path: bool = False
) -> Any:
    """A log position or tree size: an integer in minimum..2^53-1, the range every JSON
    reader holds exactly (and well within PostgreSQL's bigint)."""
    return _kind(path)(
        name=name,
        ge=minimum,
        le=MAX_SAFE_INT,
        description=description,
        # litestar leaves a bound of 0 out of the OpenAPI document (it tests truth, not
        # None): said again here, or the document would allow -1, which is refused
        schema_extra={"minimum": minimum},
    )


def slug(description: str, *, name: str | None = None, path: bool = False) -> Any:
    """A partner or site id (lowercase letters, digits, single hyphens)."""
    return _kind(path)(
        name=name, pattern=SLUG, min_length=1, max_length=64, description=description
    )


def aware(value: datetime.datetime | None, name: str) -> datetime.datetime | None:
    """A timestamp with its offset: one without names no instant (RFC 3339 requires it)."""
    if value is not None and value.utcoffset() is None:
        raise ValidationException(
            f"{name} needs a time zone offset (RFC 3339), e.g. 2025-10-01T08:00:00Z",
            extra=[{"key": name, "message": "a timestamp without a time zone offset"}],
        )
    return value
