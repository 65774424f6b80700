"""RFC 9457 problem details: the body of every error response.

Extensions are optional members; absent ones are left out of the JSON."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from schemas.common import MAX_SAFE_INT


class ProblemError(Struct, frozen=True, kw_only=True):
    """One thing wrong with the input: where (`data.beneficiaries.women`) and what."""

    path: str
    message: str


class Problem(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An error (`application/problem+json`).

    `type` is a URI naming the problem (for a broken rule, the rule); `errors` lists
    validation failures by path; `current_version` is the stream's version on a 409
    version conflict. Unknown members are accepted when decoding: RFC 9457 lets
    servers add extensions."""

    type: str
    title: str
    status: Annotated[int, Meta(ge=100, le=599)]
    detail: str
    instance: str | None = None
    errors: list[ProblemError] | None = None
    current_version: Annotated[int, Meta(ge=0, le=MAX_SAFE_INT)] | None = None
