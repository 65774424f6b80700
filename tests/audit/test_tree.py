"""The audit tree kept at append time: the frontier in the log head is the RFC 9162 root
of every leaf, the stored nodes are exactly the completed subtrees on stored levels, the
server may only add to them, and proofs served from them verify."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.audit.checkpoints import sign_checkpoint
from server.audit.merkle import (
    Frontier,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)
from server.audit.signing import Signer
from server.audit.tree_store import (
    AuditTreeIncomplete,
    log_state,
    prove_consistency,
    prove_inclusion,
)
from server.database.migrate import available_migrations, migrate
from server.database.runtime import with_database
from server.eventstore import EventStore, leaf_hash
from server.eventstore.group_sql import COPY_ABOVE
from tests.audit.helpers import expected_nodes, fill, leaf_hashes, stored_nodes
from tests.eventstore.helpers import new_event


def leaves(count: int, seed: int = 0) -> list[bytes]:
    return [hashlib.sha256(f"{seed}-{i}".encode()).digest() for i in range(count)]


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=400),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
    stride=st.sampled_from([1, 2, 4, 8]),
)
def test_fast_extension_agrees_with_the_reference(total: int, cuts: list[int], stride: int) -> None:
    hashes = leaves(total)
    reference, nodes = Frontier().extend(hashes)
    wanted = [(n.level, n.index, n.hash) for n in nodes if n.level and n.level % stride == 0]
    frontier, advanced, emitted = Frontier(), Frontier(), []
    bounds = sorted({0, total, *(c for c in cuts if c <= total)})
    for start, end in itertools.pairwise(bounds):
        frontier, rows = frontier.extend_interior(hashes[start:end], level_stride=stride)
        advanced = advanced.advance(hashes[start:end])
        emitted += rows
    assert frontier == advanced == reference
    assert emitted == wanted


async def test_frontier_after_concurrent_appends_is_the_root_of_every_leaf(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await asyncio.gather(*(fill(store, 70, seed=n, tag=f"w{n}") for n in range(24)))
    hashes = await leaf_hashes(pool)
    assert len(hashes) == 24 * 70
    state = await log_state(pool)
    assert state.size == len(hashes)
    assert state.frontier.root() == root_from_leaves(hashes)
    assert state.frontier == Frontier().extend(hashes)[0]
    assert await stored_nodes(pool) == expected_nodes(hashes)


async def test_groups_sent_by_statement_and_by_copy_keep_the_same_tree(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """A group of up to COPY_ABOVE rows goes in one statement, a larger one by COPY:
    either way the rows, the head and the tree agree."""
    receipts = []
    for size in (COPY_ABOVE, COPY_ABOVE + 1, 1, 3 * COPY_ABOVE, 2):
        receipts += await store.append([new_event(f"s-{size}") for _ in range(size)])
    logged = await store.read_log(0, 1000)
    assert [e.position for e in logged] == list(range(1, len(receipts) + 1))
    assert [e.leaf_hash for e in logged] == [leaf_hash(e.entry) for e in logged]
    assert [r.hash for r in receipts] == await leaf_hashes(pool)
    state = await log_state(pool)
    assert state.size == len(receipts) == await store.head()
    assert state.frontier == Frontier().extend(await leaf_hashes(pool))[0]
    assert await stored_nodes(pool) == expected_nodes(await leaf_hashes(pool))


async def test_receipt_hashes_are_the_leaves_of_the_tree(store: EventStore) -> None:
    receipts = await fill(store, 50)
    state = await log_state(store.pool)
    assert state.frontier.root() == root_from_leaves([r.hash for r in receipts])


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE merkle_nodes SET hash = hash",
        "DELETE FROM merkle_nodes",
        "TRUNCATE merkle_nodes",
        "UPDATE checkpoints SET note = note",
        "DELETE FROM checkpoints",
        # CASCADE: a plain TRUNCATE stops first at the foreign key of cosignatures
        "TRUNCATE checkpoints CASCADE",
    ],
)
async def test_nodes_and_checkpoints_are_append_only(
    store: EventStore, pool: asyncpg.Pool, database_url: str, signer: Signer, statement: str
) -> None:
    await fill(store, 20)
    await sign_checkpoint(pool, signer)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute(statement)
    owner = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute(statement)
    finally:
        await owner.close()


async def test_the_server_role_cannot_disable_the_tree_guards(pool: asyncpg.Pool) -> None:
    for table in ("merkle_nodes", "checkpoints"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")


async def test_the_frontier_cannot_drift_from_the_head(database_url: str) -> None:
    owner = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.CheckViolationError):
            await owner.execute("UPDATE log_head SET last_position = 1")
    finally:
        await owner.close()


async def test_migration_builds_the_tree_of_a_log_appended_before_it(
    pg_admin_dsn: str,
) -> None:
    admin = await asyncpg.connect(pg_admin_dsn)
    name = "t_audit_backfill"
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await admin.execute(f'CREATE DATABASE "{name}"')
    conn = await asyncpg.connect(with_database(pg_admin_dsn, name))
    try:
        # the schema as it was before the audit log, with 300 events in it
        await conn.execute(
            "CREATE TABLE schema_migrations (version text PRIMARY KEY, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in available_migrations():
            if migration.version >= "0003":
                break
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
                migration.version,
                migration.checksum,
            )
        entries = [f'{{"position":{i}}}'.encode() for i in range(1, 301)]
        hashes = [hashlib.sha256(b"\x00" + entry).digest() for entry in entries]
        await conn.executemany(
            "INSERT INTO events (position, event_id, stream, version, type, schema_version,"
            " recorded_at, entry, leaf_hash) VALUES ($1::bigint, gen_random_uuid(), 's',"
            " $1::int, 'T', 1, now(), $2, $3)",
            list(zip(range(1, 301), entries, hashes, strict=True)),
        )
        await conn.execute("UPDATE log_head SET last_position = 300")
        await migrate(conn)
        state = await log_state(conn)
        assert state.frontier == Frontier().extend(hashes)[0]
        assert await stored_nodes(conn) == expected_nodes(hashes)
    finally:
        await conn.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_proofs_from_stored_nodes_verify(store: EventStore, pool: asyncpg.Pool) -> None:
    await fill(store, 300)
    hashes = await leaf_hashes(pool)
    rng = random.Random(7)
    sizes = [1, 2, 15, 16, 17, 255, 256, 257, 300, *rng.sample(range(1, 301), 10)]
    for size in sizes:
        root = root_from_leaves(hashes[:size])
        for index in {0, size - 1, rng.randrange(size)}:
            proof = await prove_inclusion(pool, index, size)
            assert proof.leaf_hash == hashes[index]
            assert proof.root_hash == root
            assert verify_inclusion(hashes[index], index, size, proof.proof, root)
        for old in {1, size, rng.randint(1, size)}:
            consistency = await prove_consistency(pool, old, size)
            old_root = root_from_leaves(hashes[:old])
            assert (consistency.old_root, consistency.new_root) == (old_root, root)
            assert verify_consistency(old, size, old_root, root, consistency.proof)


async def test_a_missing_node_is_reported_not_guessed(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    await fill(store, 40)
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute("ALTER TABLE merkle_nodes DISABLE TRIGGER USER")
        await owner.execute("DELETE FROM merkle_nodes WHERE level = 4 AND index = 0")
    finally:
        await owner.close()
    with pytest.raises(AuditTreeIncomplete, match="level 4, index 0"):
        await prove_inclusion(pool, 39, 40)
