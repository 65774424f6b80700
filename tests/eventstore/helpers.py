"""Small builders of events for the event-store tests."""

from __future__ import annotations

import uuid

from server.eventstore import Metadata, NewEvent, canonical_json


def new_event(
    stream: str = "test-1",
    *,
    type: str = "Noted",
    data: dict[str, object] | None = None,
    id: uuid.UUID | None = None,
    expected_version: int | None = None,
) -> NewEvent:
    return NewEvent(
        id=id or uuid.uuid4(),
        type=type,
        stream=stream,
        data=canonical_json(data if data is not None else {"note": "hello"}),
        expected_version=expected_version,
        metadata=Metadata(principal="tester", role="admin", request_id="req-1"),
    )
