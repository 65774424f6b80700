"""Signed checkpoints of the audit tree (C2SP tlog-checkpoint notes): their text, signing
one only when it is consistent with the last, storing and reading them, and the
background task that signs every N events or T seconds."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import time
from datetime import UTC, datetime

import asyncpg
import msgspec

from server.audit.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from server.audit.signing import NoteError, Signer, Verifier
from server.audit.tree_store import AuditTreeError, Reader, log_state, prove_consistency

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key held while signing ("HMKR" "CKPT"): one signer at a time
# across every server process
CHECKPOINT_LOCK = 0x484D4B52_434B5054


class CheckpointRefused(AuditTreeError):
    """The log as stored is not an extension of the last signed checkpoint: not signed."""


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A signed checkpoint as served in JSON. `note` is what the signature covers (with
    the signature line); `timestamp` is when it was signed and is not signed itself.
    `root_hash` and `signature` are base64 in JSON, `key_id` hex."""

    origin: str
    size: int
    root_hash: bytes
    timestamp: datetime
    key_id: str
    signature: bytes
    note: str


_COLUMNS = "origin, size, root_hash, signed_at, key_id, signature, note"


def _checkpoint(row: asyncpg.Record) -> Checkpoint:
    return Checkpoint(
        origin=row["origin"],
        size=row["size"],
        root_hash=row["root_hash"],
        timestamp=row["signed_at"],
        key_id=bytes(row["key_id"]).hex(),
        signature=row["signature"],
        note=row["note"],
    )


def checkpoint_text(origin: str, size: int, root_hash: bytes) -> str:
    """The body a checkpoint signs: origin, decimal size, base64 root, each on a line."""
    return f"{origin}\n{size}\n{base64.b64encode(root_hash).decode()}\n"


def parse_checkpoint_text(text: str) -> tuple[str, int, bytes]:
    """(origin, size, root hash) of a checkpoint body; NoteError if it is not one.
    Extension lines after the root are allowed and ignored, as C2SP says."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint has an origin, a size and a root hash line")
    origin, size_line, root_line = lines[0], lines[1], lines[2]
    if not origin:
        raise NoteError("the checkpoint's origin line is empty")
    if not size_line.isdigit() or (size_line != "0" and size_line.startswith("0")):
        raise NoteError(f"the checkpoint size {size_line!r} is not a decimal number")
    try:
        root = base64.b64decode(root_line, validate=True)
    except binascii.Error:
        raise NoteError(f"the checkpoint root {root_line!r} is not base64") from None
    if len(root) != HASH_SIZE:
        raise NoteError("the checkpoint root is not a SHA-256 hash")
    return origin, int(size_line), root


def sign(signer: Signer, size: int, root_hash: bytes, timestamp: datetime) -> Checkpoint:
    note, signature = signer.sign(checkpoint_text(signer.name, size, root_hash))
    return Checkpoint(
        origin=signer.name,
        size=size,
        root_hash=root_hash,
        timestamp=timestamp,
        key_id=signer.verifier.key_id.hex(),
        signature=signature,
        note=note,
    )


def open_checkpoint(note: str, verifier: Verifier) -> tuple[str, int, bytes]:
    """(origin, size, root) of a signed checkpoint note, after checking its signature."""
    return parse_checkpoint_text(verifier.verify(note))


async def latest_checkpoint(conn: Reader) -> Checkpoint | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM checkpoints ORDER BY size DESC LIMIT 1")
    return None if row is None else _checkpoint(row)


async def checkpoint_at(conn: Reader, size: int) -> Checkpoint | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM checkpoints WHERE size = $1", size)
    return None if row is None else _checkpoint(row)


async def list_checkpoints(conn: Reader, after: int | None, limit: int) -> list[Checkpoint]:
    """Checkpoints of size greater than `after` (all when None), smallest first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM checkpoints WHERE $1::bigint IS NULL OR size > $1"
        " ORDER BY size LIMIT $2",
        after,
        limit,
    )
    return [_checkpoint(row) for row in rows]


async def head_and_checkpoints(
    conn: Reader, sizes: list[int]
) -> tuple[int, Checkpoint | None, dict[int, Checkpoint]]:
    """In one query: the head of the log, the latest checkpoint, and those signed at
    `sizes` (what a proof request needs before reading nodes)."""
    rows = await conn.fetch(
        f"""
        SELECT h.last_position AS head, {", ".join("c." + c for c in _COLUMNS.split(", "))}
        FROM log_head h
        LEFT JOIN checkpoints c
          ON c.size = any($1::bigint[]) OR c.size = (SELECT max(size) FROM checkpoints)
        """,
        sizes,
    )
    found = {row["size"]: _checkpoint(row) for row in rows if row["size"] is not None}
    latest = found[max(found)] if found else None
    return int(rows[0]["head"]), latest, found


async def sign_checkpoint(pool: asyncpg.Pool, signer: Signer) -> tuple[Checkpoint, bool]:
    """Sign the log as it stands now, unless the last checkpoint already covers it.

    Returns the checkpoint and whether it is new. Before signing, the new root must be
    proven consistent with the last signed one from the stored nodes; CheckpointRefused
    when it is not (the log or its tree was changed outside the server)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", CHECKPOINT_LOCK)
        state = await log_state(conn)
        root = state.frontier.root()
        last = await latest_checkpoint(conn)
        if last is not None:
            if last.size == state.size and last.root_hash == root:
                return last, False
            _check_extends(last, state.size, root)
            if last.size > 0 and state.size > last.size:
                proof = await prove_consistency(conn, last.size, state.size)
                if proof.new_root != root:
                    raise CheckpointRefused(
                        f"the stored tree nodes give root {_b64(proof.new_root)} at size "
                        f"{state.size}, the frontier {_b64(root)}: not signed"
                    )
                if not verify_consistency(last.size, state.size, last.root_hash, root, proof.proof):
                    raise CheckpointRefused(
                        f"the log at size {state.size} is not consistent with the checkpoint "
                        f"signed at size {last.size}: not signed"
                    )
        checkpoint = sign(signer, state.size, root, datetime.now(UTC))
        await conn.execute(
            "INSERT INTO checkpoints (size, root_hash, origin, key_id, signature, note,"
            " signed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            checkpoint.size,
            checkpoint.root_hash,
            checkpoint.origin,
            bytes.fromhex(checkpoint.key_id),
            checkpoint.signature,
            checkpoint.note,
            checkpoint.timestamp,
        )
        return checkpoint, True


def _check_extends(last: Checkpoint, size: int, root: bytes) -> None:
    if size < last.size:
        raise CheckpointRefused(
            f"the log has {size} events but a checkpoint was signed at size {last.size}: not signed"
        )
    if size == last.size:
        raise CheckpointRefused(
            f"the log's root at size {size} is {_b64(root)}, not the signed "
            f"{_b64(last.root_hash)}: not signed"
        )
    if last.size == 0 and last.root_hash != EMPTY_ROOT:
        raise CheckpointRefused("the checkpoint of the empty log has a wrong root: not signed")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


class Checkpointer:
    """Signs a checkpoint when none exists yet, and then whenever the log grew by
    `every_events` or `every_seconds` passed since the last one (0 turns a trigger off).

    Runs in every server process; the advisory lock and the checks in sign_checkpoint
    make concurrent signers harmless."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        signer: Signer,
        *,
        every_events: int,
        every_seconds: float,
        poll_interval: float = 1.0,
    ) -> None:
        self.pool = pool
        self.signer = signer
        self.every_events = every_events
        self.every_seconds = every_seconds
        self.poll_interval = poll_interval
        self._task: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self._refused_logged_at = 0.0

    @property
    def enabled(self) -> bool:
        return self.every_events > 0 or self.every_seconds > 0

    def start(self) -> None:
        if self._task is None and self.enabled:
            self._task = asyncio.create_task(self._run(), name="hamkari-checkpointer")

    async def close(self) -> None:
        self._stopped.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def sign_now(self) -> tuple[Checkpoint, bool]:
        return await sign_checkpoint(self.pool, self.signer)

    async def due(self) -> bool:
        row = await self.pool.fetchrow(
            "SELECT h.last_position AS head, c.size, c.signed_at"
            " FROM log_head h LEFT JOIN LATERAL"
            " (SELECT size, signed_at FROM checkpoints ORDER BY size DESC LIMIT 1) c ON true"
        )
        assert row is not None
        if row["size"] is None:
            return True
        grown = row["head"] - row["size"]
        if grown <= 0:
            return False
        if self.every_events > 0 and grown >= self.every_events:
            return True
        age = (datetime.now(UTC) - row["signed_at"]).total_seconds()
        return self.every_seconds > 0 and age >= self.every_seconds

    async def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                if await self.due():
                    checkpoint, new = await self.sign_now()
                    if new:
                        log.info("signed checkpoint at size %d", checkpoint.size)
            except AuditTreeError as exc:
                # Loud, but once a minute: this needs a person, not a log flood.
                if time.monotonic() - self._refused_logged_at > 60:
                    self._refused_logged_at = time.monotonic()
                    log.error("checkpoint refused: %s", exc)
            except Exception:  # never let the signer die: the next round may succeed
                log.exception("checkpointing failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self.poll_interval)
