"""The audit tree as stored in PostgreSQL: leaves in events.leaf_hash, interior nodes in
merkle_nodes, the frontier in log_head; proofs and roots read from them in one query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from server.audit.merkle import (
    Frontier,
    NodeRef,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_proof,
    inclusion_proof_nodes,
    node_hash,
    root_from_nodes,
    root_nodes,
)

# anything that runs a query: the pool, a connection, a connection acquired from the pool
Reader: TypeAlias = "asyncpg.Pool[Any] | asyncpg.Connection[Any] | PoolConnectionProxy[Any]"


class AuditTreeError(Exception):
    """The stored tree is not what the log says it should be: never the client's fault."""


class AuditTreeBehind(AuditTreeError):
    """The frontier in log_head does not describe the tree at the head of the log."""

    def __init__(self, tree_size: int, head: int) -> None:
        super().__init__(
            f"the audit tree has {tree_size} leaves but the log {head} events: "
            "the log or the tree was changed outside the server"
        )
        self.tree_size = tree_size
        self.head = head


class AuditTreeIncomplete(AuditTreeError):
    """A node a proof needs is missing from the stored tree."""


# Only every STORED_LEVEL_STRIDE-th level is stored (levels 4, 8, 12, ...; level 0 is the
# events' leaf hashes): a fifteenth as many rows as every level, so the append pays little
# for the tree, while any node is at most 2^3 stored nodes away. Measured in bench/audit.py.
STORED_LEVEL_STRIDE = 4

# Read as a few index range scans (one per stored level, give or take): level 0 from the
# events (position = index + 1), the rest from merkle_nodes.
_NODES_SQL = """
SELECT r.level, x.idx, x.hash
FROM unnest($1::smallint[], $2::bigint[], $3::bigint[]) AS r(level, lo, hi)
CROSS JOIN LATERAL (
    SELECT e.position - 1 AS idx, e.leaf_hash AS hash FROM events e
    WHERE r.level = 0 AND e.position BETWEEN r.lo + 1 AND r.hi + 1
    UNION ALL
    SELECT n.index, n.hash FROM merkle_nodes n
    WHERE r.level > 0 AND n.level = r.level AND n.index BETWEEN r.lo AND r.hi
) AS x
"""
# indexes this close on one level are read in one range, the few between them included
_RANGE_SLACK = 32


def _ranges(wanted: set[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(level, first, last) ranges covering the wanted (level, index) pairs."""
    ranges: list[tuple[int, int, int]] = []
    for level, index in sorted(wanted):
        if ranges and ranges[-1][0] == level and index - ranges[-1][2] <= _RANGE_SLACK:
            ranges[-1] = (level, ranges[-1][1], index)
        else:
            ranges.append((level, index, index))
    return ranges


def _stored_below(level: int, index: int) -> tuple[int, range]:
    """The stored level a node is computed from, and the indexes there it covers."""
    height = level % STORED_LEVEL_STRIDE
    width = 1 << height
    return level - height, range(index * width, (index + 1) * width)


async def read_nodes(conn: Reader, refs: Iterable[NodeRef]) -> dict[tuple[int, int], bytes]:
    """The hashes of the named nodes from one query; AuditTreeIncomplete if a stored node
    they need is missing. Nodes on levels that are not stored are hashed up from the
    stored level below them."""
    wanted = {(ref.level, ref.index) for ref in refs}
    base: set[tuple[int, int]] = set()
    for level, index in wanted:
        stored_level, indexes = _stored_below(level, index)
        base.update((stored_level, i) for i in indexes)
    if not base:
        return {}
    ranges = _ranges(base)
    rows = await conn.fetch(
        _NODES_SQL, [r[0] for r in ranges], [r[1] for r in ranges], [r[2] for r in ranges]
    )
    stored = {(row[0], row[1]): row[2] for row in rows}
    missing = base - stored.keys()
    if missing:
        level, index = min(missing)
        raise AuditTreeIncomplete(
            f"the stored audit tree has no node at level {level}, index {index}"
        )
    nodes: dict[tuple[int, int], bytes] = {}
    for level, index in wanted:
        stored_level, indexes = _stored_below(level, index)
        layer = [stored[stored_level, i] for i in indexes]
        while len(layer) > 1:
            layer = [node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer), 2)]
        nodes[level, index] = layer[0]
    return nodes


@dataclass(frozen=True, slots=True)
class LogState:
    """The head of the log and its tree, as committed together by the appender."""

    size: int
    frontier: Frontier


async def log_state(conn: Reader) -> LogState:
    row = await conn.fetchrow("SELECT last_position, frontier FROM log_head")
    assert row is not None
    frontier = Frontier.from_bytes(row["frontier"])
    if frontier.size != row["last_position"]:
        raise AuditTreeBehind(frontier.size, row["last_position"])
    return LogState(row["last_position"], frontier)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    index: int
    size: int
    leaf_hash: bytes
    proof: list[bytes]
    root_hash: bytes


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    proof: list[bytes]
    old_root: bytes
    new_root: bytes


async def prove_inclusion(conn: Reader, index: int, size: int) -> InclusionProof:
    """PATH(index, D[size]) with the leaf and the root it leads to: one read of
    O(log size) nodes. The caller checks 0 <= index < size <= the head."""
    path = inclusion_proof_nodes(index, size)
    roots = root_nodes(size)
    nodes = await read_nodes(conn, [*path, NodeRef(0, index), *roots])
    return InclusionProof(
        index=index,
        size=size,
        leaf_hash=nodes[0, index],
        proof=inclusion_proof(index, size, nodes),
        root_hash=root_from_nodes(size, nodes),
    )


async def prove_consistency(conn: Reader, old_size: int, new_size: int) -> ConsistencyProof:
    """PROOF(old_size, D[new_size]) with both roots: one read of O(log new_size) nodes.
    The caller checks 0 < old_size <= new_size <= the head."""
    refs = [*consistency_proof_nodes(old_size, new_size), *root_nodes(old_size)]
    refs += root_nodes(new_size)
    nodes = await read_nodes(conn, refs)
    return ConsistencyProof(
        old_size=old_size,
        new_size=new_size,
        proof=consistency_proof(old_size, new_size, nodes),
        old_root=root_from_nodes(old_size, nodes),
        new_root=root_from_nodes(new_size, nodes),
    )
