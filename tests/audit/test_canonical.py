"""What the log stores is what anyone can reproduce: every entry is its own RFC 8785
(JSON Canonicalization Scheme) form, checked with the independent `rfc8785` package."""

from __future__ import annotations

import json
import uuid

import asyncpg
import pytest
import rfc8785

from server.eventstore import EventStore, Metadata, NewEvent, canonical_json
from tests.builders import BUILDERS
from tests.conftest import hamkari


def assert_canonical(entry: bytes) -> None:
    assert entry == rfc8785.dumps(json.loads(entry))


async def test_every_event_type_is_stored_in_rfc8785_form(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    samples = {name: build() for name, build in BUILDERS.items()}
    events = [
        NewEvent(
            id=uuid.uuid4(),
            type=name,
            stream=f"{name}-1",
            data=canonical_json(data),
            metadata=Metadata(
                principal="nrc-app", role="partner", partner_id="nrc", request_id="req-۱"
            ),
        )
        for name, data in samples.items()
    ]
    await store.append(events)
    rows = await pool.fetch("SELECT type, entry FROM events ORDER BY position")
    assert [row["type"] for row in rows] == list(samples)
    for row in rows:
        assert_canonical(row["entry"])
        # and the event's data inside it is the canonical form of what the client sent
        assert rfc8785.dumps(json.loads(row["entry"])["data"]) == rfc8785.dumps(
            samples[row["type"]]
        )


@pytest.mark.slow
async def test_entries_posted_through_the_service_are_rfc8785(
    cli_env: dict[str, str], pool: asyncpg.Pool
) -> None:
    # the demo record goes through the same posting service as any client
    loaded = hamkari("demo", "load", env=cli_env)
    assert loaded.returncode == 0, loaded.stderr
    rows = await pool.fetch("SELECT type, entry FROM events ORDER BY position")
    assert len({row["type"] for row in rows}) >= 10
    for row in rows:
        assert_canonical(row["entry"])
