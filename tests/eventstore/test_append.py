"""Appending to the log: receipts, streams, idempotent ids, expected versions, atomic batches."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import msgspec
import pytest

from server.auth.tokens import hash_token, issue, revoke
from server.eventstore import (
    AlreadyStored,
    EventIdReused,
    EventStore,
    Metadata,
    TokenRevoked,
    VersionConflict,
    leaf_hash,
)
from tests.eventstore.helpers import new_event


async def count_events(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


async def test_append_returns_receipts_that_match_what_is_read_back(store: EventStore) -> None:
    events = [new_event("a"), new_event("b"), new_event("a")]
    receipts = await store.append(events)
    assert [r.position for r in receipts] == [1, 2, 3]
    assert [(r.stream, r.version) for r in receipts] == [("a", 1), ("b", 1), ("a", 2)]
    logged = await store.read_log(0, 10)
    assert [e.id for e in logged] == [e.id for e in events]
    for receipt, stored in zip(receipts, logged, strict=True):
        assert receipt.hash == stored.leaf_hash == leaf_hash(stored.entry)
        assert receipt.recorded_at == stored.recorded_at
    assert await store.head() == 3


async def test_stored_entry_is_canonical_and_carries_the_envelope(store: EventStore) -> None:
    event = new_event("s", data={"z": 1, "a": "همکاری"})
    [receipt] = await store.append([event])
    [stored] = await store.read_stream("s")
    entry = msgspec.json.decode(stored.entry)
    assert list(entry) == sorted(entry)
    assert entry["position"] == receipt.position
    assert entry["id"] == str(event.id)
    assert entry["metadata"] == {
        "partner_id": None,
        "principal": "tester",
        "request_id": "req-1",
        "role": "admin",
    }
    assert stored.data == event.data == '{"a":"همکاری","z":1}'.encode()


async def test_read_stream_in_version_order_and_as_it_stood(store: EventStore) -> None:
    for _ in range(3):
        await store.append([new_event("s"), new_event("other")])
    whole = await store.read_stream("s")
    assert [e.version for e in whole] == [1, 2, 3]
    assert [e.version for e in await store.read_stream("s", to_position=3)] == [1, 2]
    assert [e.version for e in await store.read_stream("s", after_version=2)] == [3]
    assert await store.stream_version("s") == 3
    assert await store.stream_version("nothing") == 0


async def test_retrying_an_event_with_its_id_returns_the_original_receipt(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    event = new_event("s")
    [first] = await store.append([event])
    [again] = await store.append([event])
    assert again.replayed and not first.replayed
    assert (again.position, again.version, again.hash) == (first.position, 1, first.hash)
    assert await count_events(pool) == 1


async def test_retrying_a_batch_after_a_timeout_appends_nothing_new(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    batch = [new_event(f"s{i}") for i in range(10)]
    first = await store.append(batch)
    again = await store.append(batch)
    assert [r.position for r in again] == [r.position for r in first]
    assert all(r.replayed for r in again)
    assert await count_events(pool) == 10


async def test_concurrent_retries_in_one_group_append_once(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    event = new_event("s")
    receipts = await asyncio.gather(*(store.append([event]) for _ in range(20)))
    positions = {r.position for [r] in receipts}
    assert positions == {1}
    assert await count_events(pool) == 1


async def test_an_append_that_takes_no_replays_fails_whole_on_a_stored_id(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stored = new_event("s")
    await store.append([stored])
    with pytest.raises(AlreadyStored) as caught:
        await store.append([new_event("t"), stored], replays=False)
    assert caught.value.event_id == stored.id
    assert await count_events(pool) == 1
    [fresh] = await store.append([new_event("t")], replays=False)
    assert (fresh.position, fresh.replayed) == (2, False)


async def test_a_request_whose_token_is_not_active_fails_alone_in_its_group(
    store: EventStore, database_url: str
) -> None:
    conn = await asyncpg.connect(database_url)  # as the operator: the server only reads
    try:
        active = hash_token(await issue(conn, name="active", role="coordinator"))
        gone = hash_token(await issue(conn, name="gone", role="coordinator"))
        await revoke(conn, "gone")
    finally:
        await conn.close()
    outcomes = await asyncio.gather(
        store.append([new_event("a")], token=active),
        store.append([new_event("b")], token=gone),
        store.append([new_event("c")], token=hash_token("hmk_never-issued")),
        store.append([new_event("d")]),
        return_exceptions=True,
    )
    assert [type(o).__name__ for o in outcomes] == ["list", "TokenRevoked", "TokenRevoked", "list"]
    assert isinstance(outcomes[1], TokenRevoked)
    assert sorted(e.stream for e in await store.read_log(0, 10)) == ["a", "d"]


async def test_a_group_that_fails_in_its_transaction_leaves_the_log_writable(
    store: EventStore, database_url: str
) -> None:
    """The group commit manages its transaction by hand (four round trips, not nine): a
    statement failing inside it must roll it back and free the log's lock."""
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute("REVOKE INSERT ON events FROM hamkari_app")
        try:
            failed = await asyncio.gather(
                *(store.append([new_event(f"s{i}")]) for i in range(3)),
                return_exceptions=True,
            )
        finally:
            await owner.execute("GRANT INSERT ON events TO hamkari_app")
        assert all(isinstance(f, asyncpg.InsufficientPrivilegeError) for f in failed), failed
        [receipt] = await asyncio.wait_for(store.append([new_event("after")]), 10)
        assert receipt.position == 1
        held = await owner.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        )
        assert held == 0
    finally:
        await owner.close()


async def test_an_id_reused_for_other_content_is_refused(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    event_id = uuid.uuid4()
    await store.append([new_event("s", id=event_id, data={"n": 1})])
    with pytest.raises(EventIdReused) as caught:
        await store.append([new_event("s", id=event_id, data={"n": 2})])
    assert caught.value.position == 1
    with pytest.raises(EventIdReused):
        await store.append([new_event("other", id=event_id, data={"n": 1})])
    assert await count_events(pool) == 1


async def test_an_id_another_party_used_is_refused_without_its_receipt_or_position(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """The store's own check (a retry that raced the original past the posting
    service's look-up): only the same role for the same partner gets the receipt."""
    nrc = Metadata(principal="nrc-mis", role="partner", partner_id="nrc")
    original = msgspec.structs.replace(new_event("s"), metadata=nrc)
    [receipt] = await store.append([original])
    for other in (
        Metadata(principal="ayandeh-mis", role="partner", partner_id="ayandeh"),
        Metadata(principal="coordinator", role="coordinator"),
    ):
        for attempt in (original, msgspec.structs.replace(original, data=b'{"n":2}')):
            with pytest.raises(EventIdReused) as caught:
                await store.append([msgspec.structs.replace(attempt, metadata=other)])
            assert caught.value.position is None
            assert "position" not in str(caught.value)
    # in one group, before either is stored: the second party is refused all the same
    twin = new_event("t")
    first, second = await asyncio.gather(
        store.append([msgspec.structs.replace(twin, metadata=nrc)]),
        store.append([twin]),
        return_exceptions=True,
    )
    assert isinstance(first, list) and isinstance(second, EventIdReused), (first, second)
    assert second.position is None
    # a rotated token of the same partner is the same party
    rotated = Metadata(principal="nrc-mis-2026", role="partner", partner_id="nrc")
    [again] = await store.append([msgspec.structs.replace(original, metadata=rotated)])
    assert (again.position, again.replayed) == (receipt.position, True)
    assert await count_events(pool) == 2


async def test_expected_version_is_enforced(store: EventStore) -> None:
    await store.append([new_event("s", expected_version=0)])
    await store.append([new_event("s", expected_version=1), new_event("s", expected_version=2)])
    with pytest.raises(VersionConflict) as caught:
        await store.append([new_event("s", expected_version=1)])
    assert (caught.value.stream, caught.value.expected, caught.value.current) == ("s", 1, 3)
    with pytest.raises(VersionConflict):
        await store.append([new_event("new-stream", expected_version=4)])


async def test_a_batch_with_one_conflict_appends_none_of_its_events(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await store.append([new_event("s")])
    with pytest.raises(VersionConflict):
        await store.append([new_event("a"), new_event("b"), new_event("s", expected_version=0)])
    assert await count_events(pool) == 1
    assert await store.stream_version("a") == 0


async def test_one_bad_request_fails_alone_in_a_group(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await store.append([new_event("s")])
    good = [store.append([new_event(f"g{i}")]) for i in range(10)]
    bad = store.append([new_event("x"), new_event("s", expected_version=0)])
    results = await asyncio.gather(*good, bad, return_exceptions=True)
    assert isinstance(results[-1], VersionConflict)
    positions = sorted(r[0].position for r in results[:-1])  # type: ignore[index]
    assert positions == list(range(2, 12))
    assert await count_events(pool) == 11


async def test_read_log_pages_in_position_order(store: EventStore) -> None:
    await store.append([new_event(f"s{i % 3}") for i in range(25)])
    seen: list[int] = []
    after = 0
    while page := await store.read_log(after, 10):
        seen.extend(e.position for e in page)
        after = page[-1].position
    assert seen == list(range(1, 26))


async def test_a_stream_read_but_not_written_must_be_unchanged(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await store.append([new_event("partner-nrc")])
    await store.append([new_event("delivery-1")], unchanged={"partner-nrc": 1})
    await store.append([new_event("partner-nrc")])
    with pytest.raises(VersionConflict) as caught:
        await store.append([new_event("delivery-2")], unchanged={"partner-nrc": 1})
    assert caught.value.current == 2
    assert await count_events(pool) == 3
