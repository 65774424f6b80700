"""Checkpoints: C2SP signed notes byte for byte, signed with a key kept in a file, only
ever consistent with the last one signed, one signer at a time, every N events."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import stat
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.audit.checkpoints import (
    Checkpoint,
    Checkpointer,
    CheckpointRefused,
    latest_checkpoint,
    list_checkpoints,
    open_checkpoint,
    parse_checkpoint_text,
    sign_checkpoint,
)
from server.audit.merkle import EMPTY_ROOT, Frontier, root_from_leaves
from server.audit.signing import NoteError, Signer, Verifier, load_or_create_key, load_verifier
from server.eventstore import EventStore
from tests.audit.conftest import ORIGIN
from tests.audit.helpers import fill, leaf_hashes
from tests.waiting import until

# The signed-note example of golang.org/x/mod/sumdb/note, the reference implementation.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = GO_TEXT + (
    "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
    "ngotpRZb6KE6RyyBwJnAM=\n"
)


def go_signer() -> Signer:
    seed = base64.b64decode(GO_SIGNER.split("+", 4)[-1])[1:]
    return Signer("PeterNeumann", Ed25519PrivateKey.from_private_bytes(seed))


def test_notes_match_the_reference_implementation() -> None:
    signer = go_signer()
    assert signer.verifier.vkey == GO_VERIFIER
    note, _ = signer.sign(GO_TEXT)
    assert note == GO_NOTE
    assert Verifier.from_vkey(GO_VERIFIER).verify(GO_NOTE) == GO_TEXT


def test_a_changed_note_or_another_key_does_not_verify(signer: Signer) -> None:
    verifier = Verifier.from_vkey(GO_VERIFIER)
    with pytest.raises(NoteError, match="does not verify"):
        verifier.verify(GO_NOTE.replace("cryptography", "cryptographY"))
    with pytest.raises(NoteError, match="no signature by PeterNeumann"):
        verifier.verify(signer.sign(GO_TEXT)[0])
    for broken in (GO_NOTE.rstrip("\n"), GO_TEXT, GO_NOTE.replace("— ", "- ")):
        with pytest.raises(NoteError):
            verifier.verify(broken)
    with pytest.raises(NoteError):
        Verifier.from_vkey(GO_VERIFIER.replace("c74f20a3", "c74f20a4"))


async def test_a_checkpoint_is_a_c2sp_note_signed_by_the_log_key(
    store: EventStore, pool: asyncpg.Pool, signer: Signer
) -> None:
    await fill(store, 21)
    checkpoint, new = await sign_checkpoint(pool, signer)
    assert new
    root = root_from_leaves(await leaf_hashes(pool))
    body = f"{ORIGIN}\n21\n{base64.b64encode(root).decode()}\n"
    public = signer.verifier.public_key
    key_id = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    assert checkpoint.key_id == key_id.hex()
    signature_line = base64.b64encode(key_id + checkpoint.signature).decode()
    assert checkpoint.note == f"{body}\n— {ORIGIN} {signature_line}\n"
    # checked with the library directly, not our own verifier
    signer.private_key.public_key().verify(checkpoint.signature, body.encode())
    assert (checkpoint.origin, checkpoint.size, checkpoint.root_hash) == (ORIGIN, 21, root)
    assert open_checkpoint(checkpoint.note, signer.verifier) == (ORIGIN, 21, root)
    assert open_checkpoint(checkpoint.note, load_verifier(signer.verifier.pem, ORIGIN))[1] == 21


def test_checkpoint_bodies_are_parsed_strictly() -> None:
    root = base64.b64encode(EMPTY_ROOT).decode()
    assert parse_checkpoint_text(f"o\n0\n{root}\n") == ("o", 0, EMPTY_ROOT)
    assert parse_checkpoint_text(f"o\n7\n{root}\nextension line\n")[1] == 7
    for bad in (f"o\n07\n{root}\n", f"o\n-1\n{root}\n", "o\n1\nnot-base64\n", f"o\n1\n{root}"):
        with pytest.raises(NoteError):
            parse_checkpoint_text(bad)


async def test_signing_again_without_growth_returns_the_same_checkpoint(
    store: EventStore, pool: asyncpg.Pool, signer: Signer
) -> None:
    empty, new = await sign_checkpoint(pool, signer)
    assert new and empty.size == 0 and empty.root_hash == EMPTY_ROOT
    await fill(store, 5)
    first, _ = await sign_checkpoint(pool, signer)
    again, new = await sign_checkpoint(pool, signer)
    assert not new and again == first
    await fill(store, 5)
    later, new = await sign_checkpoint(pool, signer)
    assert new and later.size == 10
    assert [c.size for c in await list_checkpoints(pool, None, 10)] == [0, 5, 10]
    assert [c.size for c in await list_checkpoints(pool, 0, 1)] == [5]


async def test_concurrent_signers_sign_one_checkpoint_per_size(
    store: EventStore, pool: asyncpg.Pool, signer: Signer
) -> None:
    await fill(store, 30)
    results = await asyncio.gather(*(sign_checkpoint(pool, signer) for _ in range(8)))
    assert sum(new for _, new in results) == 1
    assert {checkpoint.size for checkpoint, _ in results} == {30}


async def tamper(database_url: str, *statements: str) -> None:
    owner = await asyncpg.connect(database_url)
    try:
        for statement in statements:
            await owner.execute(statement)
    finally:
        await owner.close()


async def test_a_rewritten_frontier_is_refused(
    store: EventStore, pool: asyncpg.Pool, database_url: str, signer: Signer
) -> None:
    await fill(store, 20)
    await sign_checkpoint(pool, signer)
    await fill(store, 7)
    # the frontier of 27 other leaves: a root the stored nodes cannot lead to
    forged = Frontier().advance([hashlib.sha256(bytes([i])).digest() for i in range(27)])
    await tamper(database_url, f"UPDATE log_head SET frontier = '\\x{forged.to_bytes().hex()}'")
    with pytest.raises(CheckpointRefused, match="not signed"):
        await sign_checkpoint(pool, signer)
    assert (await latest_checkpoint(pool)).size == 20  # type: ignore[union-attr]


async def test_a_log_rewritten_after_a_checkpoint_is_refused(
    store: EventStore, pool: asyncpg.Pool, database_url: str, signer: Signer
) -> None:
    await fill(store, 40)
    await sign_checkpoint(pool, signer)
    # roll back to 33 as a careful superuser would: events, nodes and head all agree
    hashes = (await leaf_hashes(pool))[:33]
    frontier = Frontier().advance(hashes)
    await tamper(
        database_url,
        "ALTER TABLE events DISABLE TRIGGER USER",
        "ALTER TABLE merkle_nodes DISABLE TRIGGER USER",
        "DELETE FROM events WHERE position > 33",
        "DELETE FROM merkle_nodes WHERE (index + 1) * (1::bigint << level) > 33",
        f"UPDATE log_head SET last_position = 33, frontier = '\\x{frontier.to_bytes().hex()}'",
    )
    with pytest.raises(CheckpointRefused, match="a checkpoint was signed at size 40"):
        await sign_checkpoint(pool, signer)
    await fill(store, 12, tag="forged")  # the server appends on top of the rewritten tree
    with pytest.raises(CheckpointRefused, match="not consistent with the checkpoint"):
        await sign_checkpoint(pool, signer)
    assert [c.size for c in await list_checkpoints(pool, None, 10)] == [40]


async def test_the_checkpointer_signs_every_n_events(
    store: EventStore, pool: asyncpg.Pool, signer: Signer
) -> None:
    checkpointer = CountingCheckpointer(
        pool, signer, every_events=10, every_seconds=0, poll_interval=0.02
    )
    checkpointer.start()
    try:
        # the empty log's checkpoint first (there was none)
        first = await until(lambda: latest_checkpoint(pool), 10, what="a first checkpoint")
        assert first.size == 0
        await fill(store, 4)
        # no checkpoint yet: two more rounds, so one looked after the four were appended
        rounds = checkpointer.rounds
        await until(lambda: checkpointer.rounds >= rounds + 2, 10, what="two more rounds")
        assert (await latest_checkpoint(pool)).size == 0  # type: ignore[union-attr]
        await fill(store, 8)  # in small batches: the signer may catch it at 10, 11 or 12

        async def signed_at_ten() -> Checkpoint | None:
            latest = await latest_checkpoint(pool)
            return latest if latest is not None and latest.size >= 10 else None

        latest = await until(signed_at_ten, 10, what="a checkpoint at 10 or more")
        assert 10 <= latest.size <= 12
    finally:
        await checkpointer.close()


async def test_the_checkpointer_signs_after_t_seconds_when_the_log_grew(
    store: EventStore, pool: asyncpg.Pool, signer: Signer
) -> None:
    checkpointer = Checkpointer(pool, signer, every_events=0, every_seconds=0.5, poll_interval=0.02)
    await sign_checkpoint(pool, signer)
    await fill(store, 3)
    assert not await checkpointer.due()
    # the half second passing is what is under test; due() says when it has
    await until(checkpointer.due, 5, what="due after 0.5 s")
    await checkpointer.sign_now()
    assert not await checkpointer.due()  # nothing new since


def test_the_signing_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing-key.pem"
    key = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_key(path)
    assert Signer("o", again).verifier == Signer("o", key).verifier
    assert list(path.parent.iterdir()) == [path]


class CountingCheckpointer(Checkpointer):
    """A checkpointer that counts its rounds (each asks whether a checkpoint is due),
    so that a test can tell it has looked without guessing how long that takes."""

    rounds = 0

    async def due(self) -> bool:
        answer = await super().due()
        self.rounds += 1
        return answer
