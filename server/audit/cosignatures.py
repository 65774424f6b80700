"""The server's side of witnessing: checking a submitted cosignature against the
checkpoints the log signed and the witnesses registered in the log, storing it
(append-only), and reading cosignatures back for the checkpoint and the witness list."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import msgspec

from server.audit.checkpoints import Checkpoint, checkpoint_at, parse_checkpoint_text
from server.audit.cosignature import Cosignature, signature_lines, split_line
from server.audit.signing import KEY_ID_SIZE, MAX_SIGNATURES, NoteError
from server.audit.tree_store import Reader

# a submission carries a checkpoint (a few hundred bytes) and a few signature lines
MAX_SUBMISSION_BYTES = 16 * 1024
# how far ahead of the server's clock a witness's timestamp may be (clock skew)
FUTURE_SLACK_SECONDS = 300


class CosignatureRefused(Exception):
    """A submission refused as a whole: nothing of it is stored. `slug` names why
    (server/api/witnesses.py answers each with its problem type and status)."""

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail


def _malformed(detail: str) -> CosignatureRefused:
    return CosignatureRefused("cosignature-malformed", detail)


@dataclass(frozen=True)
class WitnessKey:
    """What the server knows of a witness when checking its cosignature: its
    registered key (as a `verify` function) and whether it was retired."""

    key_id: bytes
    retired: bool
    verify: Callable[[str, str], Cosignature | None]


# witness names -> what the log records of them (None: never registered)
WitnessLookup = Callable[[Sequence[str]], Awaitable[dict[str, WitnessKey | None]]]


async def accept(
    pool: asyncpg.Pool, body: str, log_key_id: bytes, witnesses: WitnessLookup
) -> tuple[Checkpoint, list[Cosignature]]:
    """Check every cosignature in `body` (a checkpoint the log signed, then signature
    lines: the log's own, which is ignored, and one or more witnesses') and store them
    all, or refuse with CosignatureRefused and store none."""
    try:
        text, lines = signature_lines(body)
        _origin, size, _root = parse_checkpoint_text(text)
        parsed = [split_line(line) for line in lines]
    except NoteError as exc:
        raise _malformed(str(exc)) from None
    checkpoint = await checkpoint_at(pool, size)
    if checkpoint is None or _text_of(checkpoint.note) != text:
        raise CosignatureRefused(
            "checkpoint-not-signed",
            f"the log never signed this checkpoint of size {size}: nothing to cosign",
        )
    submitted = [
        (name, raw, line)
        for (name, raw), line in zip(parsed, lines, strict=True)
        if not (name == checkpoint.origin and raw[:KEY_ID_SIZE] == bytes.fromhex(checkpoint.key_id))
    ]
    if not submitted:
        raise _malformed("the note carries no cosignature besides the log's own signature")
    names = [name for name, _, _ in submitted]
    if len(set(names)) != len(names):
        raise _malformed("a witness may cosign a checkpoint once per submission")
    known = await witnesses(names)
    cosignatures = [_verified(text, name, line, known.get(name)) for name, _, line in submitted]
    await _store(pool, size, cosignatures)
    return checkpoint, cosignatures


def _text_of(note: str) -> str:
    return note[: note.rfind("\n\n") + 1]


def _verified(text: str, name: str, line: str, witness: WitnessKey | None) -> Cosignature:
    if witness is None:
        raise CosignatureRefused(
            "witness-not-registered",
            f"no witness named {name!r} is registered in the log",
        )
    if witness.retired:
        raise CosignatureRefused("witness-retired", f"witness {name!r} was retired")
    try:
        cosignature = witness.verify(text, line)
    except NoteError as exc:
        raise CosignatureRefused("cosignature-invalid", str(exc)) from None
    if cosignature is None:
        raise CosignatureRefused(
            "witness-not-registered",
            f"the line names {name!r} but not its registered key "
            f"(key id {witness.key_id.hex()}): a cosignature/v1 key registered for that "
            "name is needed",
        )
    if cosignature.timestamp > time.time() + FUTURE_SLACK_SECONDS:
        raise CosignatureRefused(
            "cosignature-invalid",
            f"the cosignature by {name!r} is dated {cosignature.timestamp}, in the future",
        )
    return cosignature


async def _store(pool: asyncpg.Pool, size: int, cosignatures: list[Cosignature]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        # a witness's cosignatures are checked and stored one submission at a time
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('hamkari-cosign:' || name))"
            " FROM unnest($1::text[]) AS name ORDER BY name",
            sorted(c.name for c in cosignatures),
        )
        latest = {
            row["witness_name"]: (row["size"], row["cosigned_at"])
            for row in await conn.fetch(
                "SELECT DISTINCT ON (witness_name) witness_name,"
                " checkpoint_size AS size, cosigned_at FROM cosignatures"
                " WHERE witness_name = any($1::text[])"
                " ORDER BY witness_name, checkpoint_size DESC",
                [c.name for c in cosignatures],
            )
        }
        for cosignature in cosignatures:
            last = latest.get(cosignature.name)
            if last is None:
                continue
            last_size, last_time = last
            if last_size == size:
                raise CosignatureRefused(
                    "cosignature-replayed",
                    f"{cosignature.name} already cosigned the checkpoint of size {size}",
                )
            if last_size > size or last_time > cosignature.timestamp:
                raise CosignatureRefused(
                    "cosignature-stale",
                    f"{cosignature.name} already cosigned size {last_size} at {last_time}; "
                    f"this cosignature (size {size}, time {cosignature.timestamp}) is older",
                )
        try:
            await conn.executemany(
                "INSERT INTO cosignatures (checkpoint_size, witness_name, key_id, cosigned_at,"
                " signature, line) VALUES ($1, $2, $3, $4, $5, $6)",
                [(size, c.name, c.key_id, c.timestamp, c.signature, c.line) for c in cosignatures],
            )
        except asyncpg.UniqueViolationError:
            raise CosignatureRefused("cosignature-replayed", "already cosigned") from None


#: the cosignatures a served note carries beside the log's own signature: C2SP's signed
#: note lets a verifier refuse a note of more than 100 signatures, and ours does
CARRIED = MAX_SIGNATURES - 1


async def cosignature_lines(conn: Reader, size: int) -> list[str]:
    """The cosignature lines gathered for the checkpoint of `size`, by witness name: at
    most CARRIED of them (`GET /v1/audit/witnesses` names every cosigner)."""
    rows = await conn.fetch(
        "SELECT line FROM cosignatures WHERE checkpoint_size = $1 ORDER BY witness_name LIMIT $2",
        size,
        CARRIED,
    )
    return [row["line"] for row in rows]


def with_cosignatures(note: str, lines: Sequence[str]) -> str:
    """The log's signed note followed by the witnesses' lines."""
    return note + "".join(f"{line}\n" for line in lines)


class WitnessStatus(msgspec.Struct, kw_only=True):
    """A registered witness and what it cosigned: how many checkpoints, the latest."""

    witness_name: str
    verifier_key: str
    partner_id: str | None
    retired: bool
    registered_position: int
    cosigned: int
    latest_size: int | None
    latest_cosigned_at: datetime | None


class CheckpointCosigners(msgspec.Struct, kw_only=True):
    """A signed checkpoint and the witnesses that cosigned it, by name."""

    size: int
    signed_at: datetime
    cosigned_by: list[str]


class WitnessList(msgspec.Struct, kw_only=True):
    witnesses: list[WitnessStatus]
    # the latest checkpoints, newest first
    checkpoints: list[CheckpointCosigners]


async def witness_list(conn: Reader, checkpoints: int) -> WitnessList:
    """Who cosigned which sizes: every registered witness (the directory's read model)
    with its cosignatures, and the latest `checkpoints` checkpoints with their cosigners."""
    witnesses = await conn.fetch(
        """
        SELECT w.witness_name, w.verifier_key, w.partner_id, w.retired, w.registered_position,
               coalesce(c.cosigned, 0) AS cosigned, l.checkpoint_size AS latest_size,
               l.cosigned_at AS latest_cosigned_at
        FROM readmodel.witnesses w
        LEFT JOIN LATERAL (SELECT count(*) AS cosigned FROM cosignatures
                           WHERE witness_name = w.witness_name) c ON true
        LEFT JOIN LATERAL (SELECT checkpoint_size, cosigned_at FROM cosignatures
                           WHERE witness_name = w.witness_name
                           ORDER BY checkpoint_size DESC LIMIT 1) l ON true
        ORDER BY w.registered_position
        """
    )
    recent = await conn.fetch(
        """
        SELECT c.size, c.signed_at,
               coalesce(array_agg(s.witness_name ORDER BY s.witness_name)
                        FILTER (WHERE s.witness_name IS NOT NULL), '{}') AS cosigned_by
        FROM (SELECT size, signed_at FROM checkpoints ORDER BY size DESC LIMIT $1) c
        LEFT JOIN cosignatures s ON s.checkpoint_size = c.size
        GROUP BY c.size, c.signed_at
        ORDER BY c.size DESC
        """,
        checkpoints,
    )
    return WitnessList(
        witnesses=[
            WitnessStatus(
                witness_name=row["witness_name"],
                verifier_key=row["verifier_key"],
                partner_id=row["partner_id"],
                retired=row["retired"],
                registered_position=row["registered_position"],
                cosigned=row["cosigned"],
                latest_size=row["latest_size"],
                latest_cosigned_at=(
                    None
                    if row["latest_cosigned_at"] is None
                    else datetime.fromtimestamp(row["latest_cosigned_at"], UTC)
                ),
            )
            for row in witnesses
        ],
        checkpoints=[
            CheckpointCosigners(
                size=row["size"], signed_at=row["signed_at"], cosigned_by=list(row["cosigned_by"])
            )
            for row in recent
        ],
    )
