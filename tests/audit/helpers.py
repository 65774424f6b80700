"""What the audit tests share: filling the log, reading it back, and the tree the server
should have stored, computed independently from the leaves."""

from __future__ import annotations

import random

import asyncpg

from server.audit.merkle import Frontier
from server.audit.tree_store import STORED_LEVEL_STRIDE
from server.eventstore import EventStore, Recorded
from tests.eventstore.helpers import new_event


async def fill(store: EventStore, count: int, *, seed: int = 0, tag: str = "e") -> list[Recorded]:
    """Append `count` events in random batches of 1..9, as different callers would."""
    rng = random.Random(seed)
    receipts: list[Recorded] = []
    while len(receipts) < count:
        size = min(rng.randint(1, 9), count - len(receipts))
        batch = [
            new_event(f"{tag}-{rng.randint(0, 5)}", data={"n": len(receipts) + i, "tag": tag})
            for i in range(size)
        ]
        receipts += await store.append(batch)
    return receipts


async def leaf_hashes(conn: asyncpg.Pool | asyncpg.Connection) -> list[bytes]:
    rows = await conn.fetch("SELECT leaf_hash FROM events ORDER BY position")
    return [row["leaf_hash"] for row in rows]


async def stored_nodes(conn: asyncpg.Pool | asyncpg.Connection) -> dict[tuple[int, int], bytes]:
    rows = await conn.fetch("SELECT level, index, hash FROM merkle_nodes")
    return {(row["level"], row["index"]): row["hash"] for row in rows}


def expected_nodes(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """The nodes the server should store for these leaves: every completed perfect
    subtree on a stored level, from the reference Frontier.extend."""
    _, nodes = Frontier().extend(leaves)
    return {
        (node.level, node.index): node.hash
        for node in nodes
        if node.level > 0 and node.level % STORED_LEVEL_STRIDE == 0
    }
