"""The Merkle tree against published data: the RFC 6962 reference roots and the
transparency-dev/merkle inclusion and consistency proof vectors (tests/data/merkle)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from server.audit.merkle import (
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaves,
    root_from_nodes,
    verify_consistency,
    verify_inclusion,
)

DATA = Path(__file__).parent / "data" / "merkle"
VECTORS = DATA / "testdata"
INCLUSION = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((VECTORS / "consistency").rglob("*.json"))
REFERENCE = json.loads((DATA / "rfc6962-roots.json").read_text())
REFERENCE_LEAVES = [leaf_hash(bytes.fromhex(item)) for item in REFERENCE["leaf_inputs_hex"]]
REFERENCE_ROOTS = [bytes.fromhex(item) for item in REFERENCE["root_hashes_hex_by_size"]]


def vector_id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def load(path: Path) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads(path.read_text())
    return vector


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def proof_of(vector: dict[str, Any]) -> list[bytes]:
    # A few vectors spell the empty proof as null.
    return [b64(item) for item in vector["proof"] or []]


def reference_nodes() -> dict[tuple[int, int], bytes]:
    _, nodes = Frontier().extend(REFERENCE_LEAVES)
    return {(node.level, node.index): node.hash for node in nodes}


def test_every_vector_file_is_exercised() -> None:
    every = sorted(VECTORS.rglob("*.json"))
    assert INCLUSION and CONSISTENCY
    assert len(every) == len(INCLUSION) + len(CONSISTENCY)


@pytest.mark.parametrize("size", range(len(REFERENCE_ROOTS)))
def test_reference_root_matches_root_from_leaves(size: int) -> None:
    assert root_from_leaves(REFERENCE_LEAVES[:size]) == REFERENCE_ROOTS[size]


@pytest.mark.parametrize("size", range(len(REFERENCE_ROOTS)))
def test_reference_root_matches_the_frontier_and_the_stored_nodes(size: int) -> None:
    frontier, _ = Frontier().extend(REFERENCE_LEAVES[:size])

    assert frontier.root() == REFERENCE_ROOTS[size]
    assert root_from_nodes(size, reference_nodes()) == REFERENCE_ROOTS[size]


@pytest.mark.parametrize("path", INCLUSION, ids=vector_id)
def test_inclusion_vector_is_accepted_exactly_when_valid(path: Path) -> None:
    vector = load(path)

    accepted = verify_inclusion(
        b64(vector["leafHash"]),
        vector["leafIdx"],
        vector["treeSize"],
        proof_of(vector),
        b64(vector["root"]),
    )

    assert accepted is not vector["wantErr"], vector["desc"]


@pytest.mark.parametrize("path", CONSISTENCY, ids=vector_id)
def test_consistency_vector_is_accepted_exactly_when_valid(path: Path) -> None:
    vector = load(path)

    accepted = verify_consistency(
        vector["size1"],
        vector["size2"],
        b64(vector["root1"]),
        b64(vector["root2"]),
        proof_of(vector),
    )

    assert accepted is not vector["wantErr"], vector["desc"]


def reference_happy_paths(paths: list[Path], size_key: str, root_key: str) -> list[Path]:
    """The valid vectors drawn from the RFC 6962 reference tree (most of them)."""
    return [
        path
        for path in paths
        if path.name == "happy-path.json"
        and b64(load(path)[root_key]) == REFERENCE_ROOTS[load(path)[size_key]]
    ]


@pytest.mark.parametrize(
    "path", reference_happy_paths(INCLUSION, "treeSize", "root"), ids=vector_id
)
def test_inclusion_proof_we_build_is_the_published_one(path: Path) -> None:
    vector = load(path)
    index = vector["leafIdx"]
    assert b64(vector["leafHash"]) == REFERENCE_LEAVES[index]

    assert inclusion_proof(index, vector["treeSize"], reference_nodes()) == proof_of(vector)


@pytest.mark.parametrize(
    "path", reference_happy_paths(CONSISTENCY, "size2", "root2"), ids=vector_id
)
def test_consistency_proof_we_build_is_the_published_one(path: Path) -> None:
    vector = load(path)

    proof = consistency_proof(vector["size1"], vector["size2"], reference_nodes())

    assert proof == proof_of(vector)
