"""The no-database twin of `POST /v1/events`: what the HTTP stack alone can do.

Same server (granian, one worker), same framework, same body decoding and validation
(`decode_body`: the tagged union of every event type), same receipt encoding; no token
lookup, no aggregates, no database. `python -m bench` measures the real route against
this one in the same run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar, Request, Response, post

from schemas.envelope import Receipt, type_of
from server.api.events import decode_body
from server.api.problems import EXCEPTION_HANDLERS

ZERO_HASH = "00" * 32


@post("/v1/events", status_code=201)
async def post_events(request: Request[Any, Any, Any]) -> Response[Any]:
    raw = await request.body()
    envelopes = decode_body(raw)
    now = datetime.now(UTC)
    receipts = [
        Receipt(
            id=envelope.id or uuid.uuid4(),
            type=type_of(envelope),
            stream=f"bench-{i}",
            version=1,
            position=i + 1,
            recorded_at=now,
            hash=ZERO_HASH,
        )
        for i, envelope in enumerate(envelopes)
    ]
    return Response(receipts if raw.lstrip()[:1] == b"[" else receipts[0], status_code=201)


def app() -> Litestar:
    return Litestar(route_handlers=[post_events], exception_handlers=EXCEPTION_HANDLERS)


if __name__ == "__main__":
    import sys

    from granian.constants import Interfaces
    from granian.server import Server

    Server(
        "bench.ceiling:app",
        address="127.0.0.1",
        port=int(sys.argv[1]),
        workers=1,
        interface=Interfaces.ASGI,
        factory=True,
        log_access=False,
    ).serve()
