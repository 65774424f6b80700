"""The RFC 9162 (Certificate Transparency v2) Merkle tree over event leaf hashes: hashing,
the append-time frontier, proofs assembled from stored perfect-subtree nodes, verification."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256

HASH_SIZE = 32
EMPTY_ROOT: bytes = sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_SIZE_BYTES = 8


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one leaf."""
    return sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return sha256(_NODE_PREFIX + left + right).digest()


@dataclass(frozen=True, slots=True)
class NodeRef:
    """A perfect subtree: at `level` L, `index` i it covers leaves [i*2^L, (i+1)*2^L)."""

    level: int
    index: int


@dataclass(frozen=True, slots=True)
class Node:
    """A perfect subtree with its hash, stored once and for all when it is completed."""

    level: int
    index: int
    hash: bytes


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 section 2.1.1, computed level by level (no recursion)."""
    _check_hashes(leaf_hashes)
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        # Carrying an odd last node up unchanged splits every range at the largest power
        # of two below its size, which is exactly how MTH splits.
        paired = [
            sha256(_NODE_PREFIX + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


@dataclass(frozen=True, slots=True)
class Frontier:
    """The tree of `size` leaves as the roots of its perfect subtrees, largest first.

    There is one subtree per set bit of `size`; they are all the append path needs.
    """

    size: int = 0
    subtree_roots: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"frontier size {self.size} is negative")
        if len(self.subtree_roots) != self.size.bit_count():
            raise ValueError(
                f"a frontier of size {self.size} has {self.size.bit_count()} subtree roots,"
                f" not {len(self.subtree_roots)}"
            )
        _check_hashes(self.subtree_roots)

    def extend(self, leaf_hashes: Iterable[bytes]) -> tuple[Frontier, list[Node]]:
        """Append leaves; return the new frontier and every node completed on the way.

        The nodes are the leaves themselves (level 0) and each perfect subtree they
        complete, in the order they are completed.
        """
        stack = list(self.subtree_roots)
        size = self.size
        completed: list[Node] = []
        emit = completed.append
        for current in leaf_hashes:
            if len(current) != HASH_SIZE:
                raise ValueError(f"leaf hash {size} is {len(current)} bytes, not {HASH_SIZE}")
            emit(Node(0, size, current))
            level, index = 0, size
            # Each trailing one bit of the new leaf's index is a left sibling now complete.
            while index & 1:
                current = sha256(_NODE_PREFIX + stack.pop() + current).digest()
                level += 1
                index >>= 1
                emit(Node(level, index, current))
            stack.append(current)
            size += 1
        return Frontier(size, tuple(stack)), completed

    def extend_interior(
        self, leaf_hashes: Sequence[bytes], *, level_stride: int = 1
    ) -> tuple[Frontier, list[tuple[int, int, bytes]]]:
        """extend() for the append path, about four times faster: only the completed
        nodes whose level is a positive multiple of `level_stride` (a power of two), as
        (level, index, hash) rows ready to store.

        Leaves (level 0) are stored with their events, so they are never returned."""
        if level_stride < 1 or level_stride & (level_stride - 1):
            raise ValueError(f"level stride {level_stride} is not a power of two")
        mask = level_stride - 1
        stack = list(self.subtree_roots)
        size = self.size
        rows: list[tuple[int, int, bytes]] = []
        emit = rows.append
        pop = stack.pop
        push = stack.append
        for current in leaf_hashes:
            if len(current) != HASH_SIZE:
                raise ValueError(f"leaf hash {size} is {len(current)} bytes, not {HASH_SIZE}")
            level, index = 0, size
            while index & 1:
                current = sha256(_NODE_PREFIX + pop() + current).digest()
                level += 1
                index >>= 1
                if not level & mask:
                    emit((level, index, current))
            push(current)
            size += 1
        return Frontier(size, tuple(stack)), rows

    def advance(self, leaf_hashes: Sequence[bytes]) -> Frontier:
        """The frontier after appending the leaves, when no node needs keeping (a verifier
        recomputing a root)."""
        stack = list(self.subtree_roots)
        size = self.size
        pop = stack.pop
        push = stack.append
        for current in leaf_hashes:
            if len(current) != HASH_SIZE:
                raise ValueError(f"leaf hash {size} is {len(current)} bytes, not {HASH_SIZE}")
            index = size
            while index & 1:
                current = sha256(_NODE_PREFIX + pop() + current).digest()
                index >>= 1
            push(current)
            size += 1
        return Frontier(size, tuple(stack))

    def root(self) -> bytes:
        """MTH of the `size` leaves (EMPTY_ROOT for none)."""
        if not self.subtree_roots:
            return EMPTY_ROOT
        return _fold(self.subtree_roots)

    def to_bytes(self) -> bytes:
        """The size as 8 bytes big-endian, then the subtree roots."""
        return self.size.to_bytes(_SIZE_BYTES, "big") + b"".join(self.subtree_roots)

    @classmethod
    def from_bytes(cls, data: bytes) -> Frontier:
        """The inverse of to_bytes; ValueError on anything it would not have written."""
        if len(data) < _SIZE_BYTES:
            raise ValueError(f"a stored frontier is at least {_SIZE_BYTES} bytes")
        size = int.from_bytes(data[:_SIZE_BYTES], "big")
        body = data[_SIZE_BYTES:]
        if len(body) != HASH_SIZE * size.bit_count():
            raise ValueError(f"stored frontier of size {size} has {len(body)} bytes of hashes")
        roots = tuple(body[i : i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE))
        return cls(size, roots)

    @classmethod
    def from_nodes(cls, size: int, nodes: Mapping[tuple[int, int], bytes]) -> Frontier:
        """Rebuild the frontier for `size` from stored nodes (those root_nodes(size) names)."""
        return cls(size, tuple(nodes[ref.level, ref.index] for ref in root_nodes(size)))


# Proofs from stored nodes. Every hash a proof carries is MTH of a leaf range [start, end)
# that is either a perfect subtree or runs to the right edge of the tree; the latter is not
# stored (it changes as the log grows), so it is folded from its perfect subtrees.


def root_nodes(size: int) -> list[NodeRef]:
    """The perfect subtrees whose fold is the root of a tree of `size` leaves."""
    if size < 0:
        raise ValueError(f"tree size {size} is negative")
    return _perfect_subtrees(0, size)


def root_from_nodes(size: int, nodes: Mapping[tuple[int, int], bytes]) -> bytes:
    """The root of the tree of `size` leaves, from the nodes root_nodes(size) names."""
    refs = root_nodes(size)
    if not refs:
        return EMPTY_ROOT
    return _fold([nodes[ref.level, ref.index] for ref in refs])


def inclusion_proof_nodes(index: int, size: int) -> list[NodeRef]:
    """The stored nodes inclusion_proof(index, size, ...) reads; ValueError unless
    0 <= index < size."""
    return [
        ref
        for start, end in _inclusion_ranges(index, size)
        for ref in _perfect_subtrees(start, end)
    ]


def inclusion_proof(index: int, size: int, nodes: Mapping[tuple[int, int], bytes]) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 section 2.1.3.1, leaf side first.

    `nodes` must hold every node inclusion_proof_nodes(index, size) names (KeyError if not).
    """
    return [_range_hash(start, end, nodes) for start, end in _inclusion_ranges(index, size)]


def consistency_proof_nodes(old_size: int, new_size: int) -> list[NodeRef]:
    """The stored nodes consistency_proof(old_size, new_size, ...) reads; ValueError unless
    0 < old_size <= new_size."""
    return [
        ref
        for start, end in _consistency_ranges(old_size, new_size)
        for ref in _perfect_subtrees(start, end)
    ]


def consistency_proof(
    old_size: int, new_size: int, nodes: Mapping[tuple[int, int], bytes]
) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 9162 section 2.1.4.1 (empty when the sizes match).

    `nodes` must hold every node consistency_proof_nodes(old_size, new_size) names.
    """
    return [
        _range_hash(start, end, nodes) for start, end in _consistency_ranges(old_size, new_size)
    ]


def root_from_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162 section 2.1.3.2), or None if the
    proof cannot be one for this index and size."""
    if not 0 <= index < size or len(leaf_hash) != HASH_SIZE:
        return None
    fn, sn = index, size - 1
    result = leaf_hash
    for sibling in proof:
        if sn == 0 or len(sibling) != HASH_SIZE:
            return None
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            # On the right edge, levels with no right sibling contribute no proof hash.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return None
    return result


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether `proof` shows the leaf at `index` is in the tree of `size` leaves with `root`."""
    computed = root_from_inclusion(leaf_hash, index, size, proof)
    return computed is not None and computed == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether `proof` shows the tree (new_size, new_root) extends (old_size, old_root),
    per RFC 9162 section 2.1.4.2. An empty old tree proves nothing and is rejected."""
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof or len(old_root) != HASH_SIZE or len(new_root) != HASH_SIZE:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a whole subtree of the new one: its hash is the old root itself.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    if len(path[0]) != HASH_SIZE:
        return False
    old_result = new_result = path[0]
    for sibling in path[1:]:
        if sn == 0 or len(sibling) != HASH_SIZE:
            return False
        if fn & 1 or fn == sn:
            old_result = node_hash(sibling, old_result)
            new_result = node_hash(sibling, new_result)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            new_result = node_hash(new_result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and old_result == old_root and new_result == new_root


def _check_hashes(hashes: Iterable[bytes]) -> None:
    for position, value in enumerate(hashes):
        if len(value) != HASH_SIZE:
            raise ValueError(f"hash {position} is {len(value)} bytes, not {HASH_SIZE}")


def _fold(subtree_roots: Sequence[bytes]) -> bytes:
    """MTH of adjacent perfect subtrees given largest first: each joins everything right of it."""
    result = subtree_roots[-1]
    for left in reversed(subtree_roots[:-1]):
        result = node_hash(left, result)
    return result


def _split(width: int) -> int:
    """The largest power of two strictly below `width` (>= 2): where MTH splits a range."""
    return 1 << ((width - 1).bit_length() - 1)


def _perfect_subtrees(start: int, end: int) -> list[NodeRef]:
    """[start, end) as adjacent perfect subtrees, largest first.

    Proof ranges start at a multiple of a power of two no smaller than their width, so they
    split as the binary digits of the width; the alignment bound makes any range safe.
    """
    refs: list[NodeRef] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        refs.append(NodeRef(level, start >> level))
        start += 1 << level
    return refs


def _range_hash(start: int, end: int, nodes: Mapping[tuple[int, int], bytes]) -> bytes:
    return _fold([nodes[ref.level, ref.index] for ref in _perfect_subtrees(start, end)])


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make PATH(index, D[size]), leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start = middle
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make PROOF(old_size, D[new_size]), deepest first."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, new_size
    while end != old_size:
        middle = start + _split(end - start)
        if old_size <= middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start = middle
    # SUBPROOF's flag b is "still at the left edge": there the verifier holds this
    # subtree's hash already (it is the old root), elsewhere the proof must carry it.
    if start > 0:
        ranges.append((start, end))
    ranges.reverse()
    return ranges
