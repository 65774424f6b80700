"""Properties of the Merkle tree: the frontier agrees with the full tree, proofs built from the
nodes it emitted verify, and any change to a proof or to what it is checked against fails."""

from __future__ import annotations

import random
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    Frontier,
    Node,
    NodeRef,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_proof,
    inclusion_proof_nodes,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

MAX_LEAVES = 300
BIG_SIZES = (1000, 1024, 1025, 65_537)

Nodes = dict[tuple[int, int], bytes]

fast = settings(max_examples=200, deadline=None)


def make_leaves(seed: int, count: int) -> list[bytes]:
    return [leaf_hash(seed.to_bytes(8, "big") + i.to_bytes(8, "big")) for i in range(count)]


def grow(leaves: list[bytes], chunks: random.Random) -> tuple[Frontier, list[Node]]:
    """Append the leaves in random-sized batches, as the appender would."""
    frontier, emitted, position = Frontier(), [], 0
    while position < len(leaves):
        step = chunks.randint(1, 40)
        frontier, nodes = frontier.extend(leaves[position : position + step])
        emitted += nodes
        position += step
    return frontier, emitted


def stored(nodes: list[Node]) -> Nodes:
    return {(node.level, node.index): node.hash for node in nodes}


def fetch(store: Nodes, refs: list[NodeRef]) -> Nodes:
    """Only what was asked for, so a proof cannot lean on nodes it did not name."""
    return {(ref.level, ref.index): store[ref.level, ref.index] for ref in refs}


def flip_bit(data: bytes, bit: int) -> bytes:
    position = bit % (len(data) * 8)
    changed = bytearray(data)
    changed[position // 8] ^= 1 << (position % 8)
    return bytes(changed)


class Log:
    """A log of random leaves, grown in random batches, with its node store."""

    def __init__(self, seed: int, size: int, chunks: random.Random) -> None:
        self.leaves = make_leaves(seed, size)
        self.frontier, emitted = grow(self.leaves, chunks)
        self.store = stored(emitted)

    def root(self, size: int) -> bytes:
        return root_from_leaves(self.leaves[:size])

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        refs = inclusion_proof_nodes(index, size)
        assert len(refs) <= 2 * size.bit_length()
        return inclusion_proof(index, size, fetch(self.store, refs))

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        refs = consistency_proof_nodes(old_size, new_size)
        assert len(refs) <= 2 * new_size.bit_length()
        return consistency_proof(old_size, new_size, fetch(self.store, refs))


@st.composite
def inclusions(draw: st.DrawFn) -> tuple[Log, int, int]:
    """A log, a tree size within it and a leaf index within that size."""
    total = draw(st.integers(1, MAX_LEAVES))
    log = Log(draw(st.integers(0, 2**32)), total, draw(st.randoms(use_true_random=False)))
    size = draw(st.integers(1, total))
    return log, draw(st.integers(0, size - 1)), size


@st.composite
def consistencies(draw: st.DrawFn) -> tuple[Log, int, int]:
    """A log and two tree sizes 1 <= old_size <= new_size within it."""
    total = draw(st.integers(1, MAX_LEAVES))
    log = Log(draw(st.integers(0, 2**32)), total, draw(st.randoms(use_true_random=False)))
    old_size, new_size = sorted((draw(st.integers(1, total)), draw(st.integers(1, total))))
    return log, old_size, new_size


# The frontier and the nodes it emits


@fast
@given(seed=st.integers(0, 2**32), size=st.integers(0, MAX_LEAVES), chunks=st.randoms())
def test_frontier_root_matches_the_full_tree_after_every_batch(
    seed: int, size: int, chunks: random.Random
) -> None:
    leaves = make_leaves(seed, size)
    frontier, position = Frontier(), 0
    assert frontier.root() == EMPTY_ROOT
    while position < size:
        step = chunks.randint(1, 40)
        frontier, _ = frontier.extend(leaves[position : position + step])
        position = min(size, position + step)
        assert frontier.size == position
        assert frontier.root() == root_from_leaves(leaves[:position])


@fast
@given(seed=st.integers(0, 2**32), size=st.integers(0, MAX_LEAVES), chunks=st.randoms())
def test_extending_in_batches_is_the_same_as_extending_at_once(
    seed: int, size: int, chunks: random.Random
) -> None:
    leaves = make_leaves(seed, size)

    in_batches, emitted_in_batches = grow(leaves, chunks)
    at_once, emitted_at_once = Frontier().extend(leaves)

    assert in_batches == at_once
    assert emitted_in_batches == emitted_at_once


@fast
@given(seed=st.integers(0, 2**32), size=st.integers(0, MAX_LEAVES), chunks=st.randoms())
def test_extend_emits_every_perfect_subtree_once_with_its_hash(
    seed: int, size: int, chunks: random.Random
) -> None:
    leaves = make_leaves(seed, size)

    _, emitted = grow(leaves, chunks)

    keys = [(node.level, node.index) for node in emitted]
    expected = {
        (level, index) for level in range(size.bit_length()) for index in range(size >> level)
    }
    assert len(keys) == len(set(keys)) and set(keys) == expected
    for node in emitted:
        first = node.index << node.level
        assert node.hash == root_from_leaves(leaves[first : first + (1 << node.level)])


@fast
@given(seed=st.integers(0, 2**32), size=st.integers(0, MAX_LEAVES), chunks=st.randoms())
def test_frontier_survives_storage_and_can_be_rebuilt_from_nodes(
    seed: int, size: int, chunks: random.Random
) -> None:
    frontier, emitted = grow(make_leaves(seed, size), chunks)

    assert Frontier.from_bytes(frontier.to_bytes()) == frontier
    assert len(frontier.to_bytes()) == 8 + HASH_SIZE * size.bit_count()
    assert Frontier.from_nodes(size, stored(emitted)) == frontier


def test_stored_frontier_of_the_wrong_length_is_refused() -> None:
    frontier, _ = Frontier().extend(make_leaves(1, 7))
    data = frontier.to_bytes()

    for broken in (data[:-1], data + b"\x00", data[:7], b""):
        with pytest.raises(ValueError):
            Frontier.from_bytes(broken)


def test_frontier_refuses_hashes_that_do_not_fit_its_size() -> None:
    with pytest.raises(ValueError):
        Frontier(3, (EMPTY_ROOT,))
    with pytest.raises(ValueError):
        Frontier(1, (b"short",))
    with pytest.raises(ValueError):
        Frontier().extend([b"not a hash"])


def test_extending_by_nothing_changes_nothing() -> None:
    frontier, _ = Frontier().extend(make_leaves(2, 5))

    assert frontier.extend([]) == (frontier, [])


def test_hashes_are_domain_separated() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")

    assert leaf_hash(left + right) != node_hash(left, right)
    assert root_from_leaves([left]) == left
    assert root_from_leaves([left, right]) == node_hash(left, right)


# Inclusion proofs


@fast
@given(case=inclusions())
def test_inclusion_proof_from_stored_nodes_verifies(case: tuple[Log, int, int]) -> None:
    log, index, size = case

    proof = log.inclusion_proof(index, size)

    assert verify_inclusion(log.leaves[index], index, size, proof, log.root(size))
    assert root_from_inclusion(log.leaves[index], index, size, proof) == log.root(size)


@fast
@given(case=inclusions(), bit=st.integers(0, 2**16))
def test_inclusion_proof_with_a_flipped_bit_is_rejected(
    case: tuple[Log, int, int], bit: int
) -> None:
    log, index, size = case
    proof = log.inclusion_proof(index, size)
    leaf, root = log.leaves[index], log.root(size)

    for position in range(len(proof)):
        tampered = list(proof)
        tampered[position] = flip_bit(proof[position], bit)
        assert not verify_inclusion(leaf, index, size, tampered, root)
    assert not verify_inclusion(flip_bit(leaf, bit), index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof, flip_bit(root, bit))


@fast
@given(case=inclusions(), data=st.data())
def test_inclusion_proof_for_another_index_or_size_is_rejected(
    case: tuple[Log, int, int], data: st.DataObject
) -> None:
    log, index, size = case
    proof = log.inclusion_proof(index, size)
    leaf = log.leaves[index]
    other_index = data.draw(st.integers(-2, size + 2).filter(lambda i: i != index))
    other_size = data.draw(st.integers(0, len(log.leaves)).filter(lambda s: s != size))

    assert not verify_inclusion(leaf, other_index, size, proof, log.root(size))
    # A size is only ever checked with the root signed for it.
    assert not verify_inclusion(leaf, index, other_size, proof, log.root(other_size))


@fast
@given(case=inclusions())
def test_inclusion_proof_with_a_hash_added_or_removed_is_rejected(
    case: tuple[Log, int, int],
) -> None:
    log, index, size = case
    proof = log.inclusion_proof(index, size)
    leaf, root = log.leaves[index], log.root(size)

    assert not verify_inclusion(leaf, index, size, [*proof, root], root)
    assert not verify_inclusion(leaf, index, size, [leaf, *proof], root)
    if proof:
        assert not verify_inclusion(leaf, index, size, proof[:-1], root)
        assert not verify_inclusion(leaf, index, size, proof[1:], root)


# Consistency proofs


@fast
@given(case=consistencies())
def test_consistency_proof_from_stored_nodes_verifies(case: tuple[Log, int, int]) -> None:
    log, old_size, new_size = case

    proof = log.consistency_proof(old_size, new_size)

    assert verify_consistency(old_size, new_size, log.root(old_size), log.root(new_size), proof)
    assert (proof == []) is (old_size == new_size)


@fast
@given(case=consistencies(), bit=st.integers(0, 2**16))
def test_consistency_proof_with_a_flipped_bit_is_rejected(
    case: tuple[Log, int, int], bit: int
) -> None:
    log, old_size, new_size = case
    proof = log.consistency_proof(old_size, new_size)
    old_root, new_root = log.root(old_size), log.root(new_size)

    for position in range(len(proof)):
        tampered = list(proof)
        tampered[position] = flip_bit(proof[position], bit)
        assert not verify_consistency(old_size, new_size, old_root, new_root, tampered)
    assert not verify_consistency(old_size, new_size, flip_bit(old_root, bit), new_root, proof)
    assert not verify_consistency(old_size, new_size, old_root, flip_bit(new_root, bit), proof)


@fast
@given(case=consistencies(), data=st.data())
def test_consistency_proof_for_other_sizes_is_rejected(
    case: tuple[Log, int, int], data: st.DataObject
) -> None:
    log, old_size, new_size = case
    proof = log.consistency_proof(old_size, new_size)
    sizes = st.integers(0, len(log.leaves))
    other_old = data.draw(sizes.filter(lambda s: s != old_size))
    other_new = data.draw(sizes.filter(lambda s: s != new_size))

    # A size is only ever checked with the root signed for it.
    assert not verify_consistency(
        other_old, new_size, log.root(other_old), log.root(new_size), proof
    )
    assert not verify_consistency(
        old_size, other_new, log.root(old_size), log.root(other_new), proof
    )
    if old_size != new_size:
        assert not verify_consistency(
            new_size, old_size, log.root(new_size), log.root(old_size), proof
        )


@fast
@given(case=consistencies())
def test_consistency_proof_with_a_hash_added_or_removed_is_rejected(
    case: tuple[Log, int, int],
) -> None:
    log, old_size, new_size = case
    proof = log.consistency_proof(old_size, new_size)
    old_root, new_root = log.root(old_size), log.root(new_size)

    assert not verify_consistency(old_size, new_size, old_root, new_root, [*proof, new_root])
    assert not verify_consistency(old_size, new_size, old_root, new_root, [old_root, *proof])
    if proof:
        assert not verify_consistency(old_size, new_size, old_root, new_root, proof[:-1])
        assert not verify_consistency(old_size, new_size, old_root, new_root, proof[1:])


# Malformed input


hashes = st.one_of(st.binary(max_size=40), st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE))
sizes = st.integers(-3, 2**70)


@settings(max_examples=300, deadline=None)
@given(
    leaf=hashes,
    index=sizes,
    size=sizes,
    proof=st.lists(hashes, max_size=80),
    root=hashes,
)
def test_inclusion_verifier_answers_rather_than_raising_on_arbitrary_input(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> None:
    # Arbitrary bytes can only "prove" the one-leaf tree whose root is that leaf.
    trivially_true = (index, size, proof) == (0, 1, []) and leaf == root and len(leaf) == HASH_SIZE
    assert verify_inclusion(leaf, index, size, proof, root) is trivially_true


@settings(max_examples=300, deadline=None)
@given(
    old_size=sizes,
    new_size=sizes,
    old_root=hashes,
    new_root=hashes,
    proof=st.lists(hashes, min_size=1, max_size=80),
)
def test_consistency_verifier_answers_false_rather_than_raising_on_arbitrary_input(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    assert verify_consistency(old_size, new_size, old_root, new_root, proof) is False


@pytest.mark.parametrize(
    ("index", "size"), [(0, 0), (-1, 5), (5, 5), (6, 5)], ids=lambda value: str(value)
)
def test_no_inclusion_proof_is_built_for_a_leaf_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError):
        inclusion_proof_nodes(index, size)
    with pytest.raises(ValueError):
        inclusion_proof(index, size, {})


@pytest.mark.parametrize(
    ("old_size", "new_size"), [(0, 0), (0, 5), (6, 5), (-1, 5)], ids=lambda value: str(value)
)
def test_no_consistency_proof_is_built_from_an_empty_or_larger_tree(
    old_size: int, new_size: int
) -> None:
    with pytest.raises(ValueError):
        consistency_proof_nodes(old_size, new_size)
    with pytest.raises(ValueError):
        consistency_proof(old_size, new_size, {})


# Bigger logs, sampled


@cache
def big_log(size: int) -> tuple[list[bytes], Nodes, dict[int, bytes]]:
    """Leaves, node store and the roots at a sample of sizes, for a log of `size` leaves.

    The roots come from the frontier as it passes each sampled size, which is cheaper than
    hashing each prefix from scratch (the frontier is checked against that above)."""
    sampler = random.Random(size)
    leaves = make_leaves(size, size)
    checkpoints = sorted({1, size, *sampler.sample(range(1, size + 1), 30)})
    frontier, store, roots, position = Frontier(), {}, {}, 0
    for checkpoint in checkpoints:
        frontier, nodes = frontier.extend(leaves[position:checkpoint])
        store.update(stored(nodes))
        roots[checkpoint] = frontier.root()
        position = checkpoint
    assert roots[size] == root_from_leaves(leaves)
    return leaves, store, roots


@pytest.mark.parametrize("size", BIG_SIZES)
def test_inclusion_proofs_verify_in_a_big_log(size: int) -> None:
    leaves, store, roots = big_log(size)
    sampler = random.Random(-size)

    for tree_size in roots:
        for index in {0, tree_size - 1, sampler.randrange(tree_size)}:
            refs = inclusion_proof_nodes(index, tree_size)
            proof = inclusion_proof(index, tree_size, fetch(store, refs))
            assert verify_inclusion(leaves[index], index, tree_size, proof, roots[tree_size])
            assert not verify_inclusion(
                leaves[index], index, tree_size, proof, flip_bit(roots[tree_size], index)
            )


@pytest.mark.parametrize("size", BIG_SIZES)
def test_consistency_proofs_verify_in_a_big_log(size: int) -> None:
    _, store, roots = big_log(size)

    for old_size in roots:
        for new_size in (s for s in roots if s >= old_size):
            refs = consistency_proof_nodes(old_size, new_size)
            proof = consistency_proof(old_size, new_size, fetch(store, refs))
            old_root, new_root = roots[old_size], roots[new_size]
            assert verify_consistency(old_size, new_size, old_root, new_root, proof)
            if proof:
                tampered = [flip_bit(proof[0], new_size), *proof[1:]]
                assert not verify_consistency(old_size, new_size, old_root, new_root, tampered)
