"""The verifier on exports built in memory: it accepts a true log, and for each way of
altering one it fails and names the first altered position."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from server.audit.export import export_line
from server.audit.merkle import Frontier, consistency_proof, root_from_leaves
from server.audit.verify import split_lines, verify_export
from server.eventstore.records import Entry, Metadata, encode_entry, leaf_hash

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def entry(position: int, note: str = "") -> bytes:
    return encode_entry(
        Entry(
            position=position,
            id=uuid.UUID(int=position),
            type="Noted",
            stream=f"s-{position % 3}",
            version=position,
            schema_version=1,
            recorded_at=NOW,
            metadata=Metadata(principal="tester"),
            data=msgspec.Raw(json.dumps({"note": note or f"event {position}"}).encode()),
        )
    )


class Log:
    """A true log of `size` entries, its signed roots, and an honest server's proofs."""

    def __init__(self, size: int) -> None:
        self.entries = [entry(p) for p in range(1, size + 1)]
        self.leaves = [leaf_hash(e) for e in self.entries]
        _, nodes = Frontier().extend(self.leaves)
        self.nodes = {(n.level, n.index): n.hash for n in nodes}

    def root(self, size: int) -> bytes:
        return root_from_leaves(self.leaves[:size])

    def trusted(self, *sizes: int) -> dict[int, bytes]:
        return {size: self.root(size) for size in sizes}

    def lines(self) -> list[bytes]:
        return [
            export_line(p, h, e)
            for p, (h, e) in enumerate(zip(self.leaves, self.entries, strict=True), 1)
        ]

    def prover(self, old: int, new: int) -> Sequence[bytes]:
        return consistency_proof(old, new, self.nodes)


def line(position: int, data: bytes, stated: bytes | None = None) -> bytes:
    return export_line(position, stated or leaf_hash(data), data)


def test_a_true_export_verifies_at_every_signed_size() -> None:
    log = Log(100)
    seen: list[tuple[int, int]] = []
    outcome = verify_export(
        log.lines(), log.trusted(10, 64, 100), progress=lambda d, t: seen.append((d, t))
    )
    assert outcome.ok and outcome.root == log.root(100) and outcome.verified_size == 100
    assert seen[-1] == (100, 100)
    # lines beyond the checkpoint are not its business
    assert verify_export(log.lines(), log.trusted(40)).ok


def test_an_export_split_anywhere_reads_the_same() -> None:
    data = b"".join(Log(30).lines())
    chunks = [data[i : i + 7] for i in range(0, len(data), 7)]
    assert list(split_lines(chunks)) == data.splitlines()


Tamper = Callable[[list[bytes], Log], None]


def changed_byte(lines: list[bytes], log: Log) -> None:
    lines[12] = line(13, log.entries[12].replace(b"event 13", b"event 14"), log.leaves[12])


def deleted(lines: list[bytes], log: Log) -> None:
    del lines[12]


def swapped(lines: list[bytes], log: Log) -> None:
    lines[12], lines[16] = line(13, log.entries[16]), line(17, log.entries[12])


def inserted(lines: list[bytes], log: Log) -> None:
    # the events from 13 on move down one place; a forgery takes 13
    shifted = [line(p + 1, log.entries[p - 1]) for p in range(13, len(lines) + 1)]
    lines[12:] = [line(13, entry(13, "forged")), *shifted]


def truncated(lines: list[bytes], log: Log) -> None:
    del lines[30:]


def malformed(lines: list[bytes], log: Log) -> None:
    lines[12] = lines[12][:-5]


def self_consistent_forgery(lines: list[bytes], log: Log) -> None:
    # a rewritten entry whose leaf hash was rewritten too: only the roots can tell
    lines[12] = line(13, entry(13, "forged"))


CASES: list[tuple[Tamper, int]] = [
    (changed_byte, 13),
    (deleted, 13),
    (swapped, 13),
    (inserted, 13),
    (truncated, 31),
    (malformed, 13),
]


def test_each_alteration_is_named_offline() -> None:
    log = Log(40)
    for tamper, position in CASES:
        lines = log.lines()
        tamper(lines, log)
        outcome = verify_export(lines, log.trusted(40))
        assert not outcome.ok, tamper.__name__
        assert outcome.first_bad == position, (tamper.__name__, outcome.problems)
        assert outcome.problems[0].startswith(f"position {position}:")


def test_a_forgery_that_fits_its_hash_is_caught_and_bounded_offline() -> None:
    log = Log(40)
    lines = log.lines()
    self_consistent_forgery(lines, log)
    outcome = verify_export(lines, log.trusted(10, 20, 40))
    # offline, the signed roots say it lies in 11..20
    assert outcome.first_bad == 11 and "11..20" in outcome.problems[0]
    assert outcome.verified_size == 10


def test_a_server_with_an_intact_tree_pins_a_forgery_down() -> None:
    log = Log(40)
    lines = log.lines()
    self_consistent_forgery(lines, log)
    outcome = verify_export(lines, log.trusted(20, 40), prover=log.prover)
    assert outcome.first_bad == 13 and outcome.verified_size == 12


def test_a_lying_server_cannot_make_a_bad_prefix_look_proven() -> None:
    log = Log(40)
    lines = log.lines()
    self_consistent_forgery(lines, log)

    def liar(old: int, new: int) -> Sequence[bytes]:
        return [b"\x00" * 32] * 3

    outcome = verify_export(lines, log.trusted(40), prover=liar)
    assert outcome.first_bad == 1 and outcome.verified_size == 0


def test_an_empty_or_short_export_is_named() -> None:
    log = Log(5)
    assert verify_export([], log.trusted(5)).first_bad == 1
    assert verify_export(log.lines()[:3], log.trusted(5)).first_bad == 4
    assert verify_export([], {0: Frontier().root()}).ok


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(min_value=2, max_value=120),
    where=st.floats(min_value=0, max_value=0.999),
    kind=st.sampled_from(["byte", "delete", "forge"]),
    signed=st.lists(st.floats(min_value=0.01, max_value=1), max_size=3),
)
def test_the_first_altered_position_is_named(
    size: int, where: float, kind: str, signed: list[float]
) -> None:
    log = Log(size)
    position = 1 + int(where * size)
    lines = log.lines()
    if kind == "byte":
        data = bytearray(log.entries[position - 1])
        data[-3] ^= 1
        lines[position - 1] = line(position, bytes(data), log.leaves[position - 1])
    elif kind == "delete":
        del lines[position - 1]
    else:
        lines[position - 1] = line(position, entry(position, "forged"))
    sizes = {max(1, int(f * size)) for f in signed} | {size}
    outcome = verify_export(lines, log.trusted(*sizes), prover=log.prover)
    assert not outcome.ok
    assert outcome.first_bad == position, outcome.problems
    offline = verify_export(lines, log.trusted(*sizes))
    assert offline.first_bad is not None and offline.first_bad <= position


def test_stated_hashes_are_never_trusted() -> None:
    log = Log(8)
    lines = log.lines()
    record = json.loads(lines[3])
    record["leaf_hash"] = base64.b64encode(b"\x01" * 32).decode()
    lines[3] = json.dumps(record).encode()
    assert verify_export(lines, log.trusted(8)).first_bad == 4
