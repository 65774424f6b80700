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
    return answer(raw, [(e.id or uuid.uuid4(), type_of(e)) for e in envelopes])


def answer(raw: bytes, events: list[tuple[uuid.UUID, str]]) -> Response[Any]:
    """201 with a receipt for each (id, type), shaped as the real route's."""
    now = datetime.now(UTC)
    receipts = [
        Receipt(
            id=event_id,
            type=type_name,
            stream=f"bench-{i}",
            version=1,
            position=i + 1,
            recorded_at=now,
            hash=ZERO_HASH,
        )
        for i, (event_id, type_name) in enumerate(events)
    ]
    return Response(receipts if raw.lstrip()[:1] == b"[" else receipts[0], status_code=201)


def app() -> Litestar:
    return Litestar(route_handlers=[post_events], exception_handlers=EXCEPTION_HANDLERS)


def serve(target: str) -> None:
    """Serve the app factory `target` with one granian worker on the port in argv[1]."""
    import sys

    from granian.constants import Interfaces
    from granian.server import Server

    Server(
        target,
        address="127.0.0.1",
        port=int(sys.argv[1]),
        workers=1,
        interface=Interfaces.ASGI,
        factory=True,
        log_access=False,
    ).serve()


if __name__ == "__main__":
    serve("bench.ceiling:app")
