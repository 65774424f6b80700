"""The auditor's endpoints: signed checkpoints, RFC 9162 inclusion and consistency proofs
served from the stored tree, the NDJSON export, and the checkpoint signing key."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import QueryParameter
from litestar.response import Stream

from server.api.parameters import position
from server.api.problems import problem_response
from server.audit.checkpoints import (
    Checkpoint,
    Checkpointer,
    CheckpointRefused,
    head_and_checkpoints,
    latest_checkpoint,
    list_checkpoints,
)
from server.audit.cosignatures import cosignature_lines, with_cosignatures
from server.audit.export import EXPORT_MEDIA_TYPE, export_pages
from server.audit.tree_store import (
    AuditTreeError,
    prove_consistency,
    prove_inclusion,
)
from server.auth.middleware import OVERSEERS, READERS, requires
from server.auth.tokens import Role

T = TypeVar("T")

JSON = "application/json"
# litestar adds `; charset=utf-8` to a text/ media type: naming it here sent it twice
TEXT = "text/plain"


class CheckpointList(msgspec.Struct, kw_only=True):
    checkpoints: list[Checkpoint]
    # pass as `after` for the next page; null when this page is the last
    next_after: int | None


class InclusionProofBody(msgspec.Struct, kw_only=True):
    """PATH(leaf_index, D[size]) of RFC 9162, leaf side first. Hashes are base64, as in
    checkpoints and the export (a receipt's `hash` is the same leaf hash in hex)."""

    position: int
    leaf_index: int
    size: int
    leaf_hash: bytes
    proof: list[bytes]
    root_hash: bytes
    # the signed checkpoint of this size, when one was signed
    checkpoint: Checkpoint | None


class ConsistencyProofBody(msgspec.Struct, kw_only=True, rename={"from_": "from"}):
    """PROOF(from, D[to]) of RFC 9162; the roots are the server's, for convenience: check
    them against checkpoints you trust."""

    from_: int
    to: int
    proof: list[bytes]
    from_root_hash: bytes
    to_root_hash: bytes
    from_checkpoint: Checkpoint | None
    to_checkpoint: Checkpoint | None


class PublicKeyBody(msgspec.Struct, kw_only=True):
    name: str
    algorithm: str
    key_id: str
    public_key: bytes
    vkey: str
    pem: str


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    # text unless JSON is asked for by name: curl's and browsers' */* get the note
    if "json" not in request.headers.get("accept", ""):
        return False
    return request.accept.best_match([TEXT, JSON], default=TEXT) == JSON


def _tree_problem(exc: AuditTreeError) -> Response[Any]:
    # the stored log or tree was changed outside the server: nothing the client did
    return problem_response(500, "audit-tree-damaged", "Audit tree damaged", str(exc))


def _beyond(size: int, head: int) -> Response[Any]:
    return problem_response(
        404, "beyond-the-log", "Beyond the log", f"the log has {head} events, not {size}"
    )


async def _beyond_or_behind(state: State, size: int, head: int) -> Response[Any]:
    """404 for a size past the log's head; but past the read replica's head only (the
    primary has it, the standby has not replayed it yet): 503, come back in a moment."""
    if state.read_pool is not state.pool:
        primary_head = int(await state.pool.fetchval("SELECT last_position FROM log_head"))
        if size <= primary_head:
            return problem_response(
                503,
                "replica-behind",
                "Read replica behind",
                f"the read replica has replayed {head} of the log's {primary_head} events",
                retry_after=1,
            )
    return _beyond(size, head)


def _attempt(work: Coroutine[Any, Any, T]) -> asyncio.Task[T | AuditTreeError]:
    """Start `work` now, on its own pooled connection; its AuditTreeError is its result."""

    async def attempt() -> T | AuditTreeError:
        try:
            return await work
        except AuditTreeError as exc:
            return exc

    return asyncio.create_task(attempt())


def _bad(detail: str) -> Response[Any]:
    return problem_response(400, "bad-request", "Bad request", detail)


class AuditController(Controller):
    """Tamper evidence for auditors: every event's leaf hash is in an RFC 9162 Merkle tree
    whose checkpoints the server signs. See docs/auditor-guide.md."""

    # The latest checkpoint, the key and consistency proofs are public
    # (auth.middleware.PUBLIC_PATHS: a witness needs nothing but its key); inclusion
    # proofs and the list of checkpoints are for any token (a partner proves its own receipts);
    # the export is the whole log, for those who may read it all; signing on demand is for
    # the directorate's admin and the auditor.
    path = "/v1/audit"
    tags = ["audit"]

    @get(
        "/checkpoint",
        operation_id="auditCheckpoint",
        summary="The latest signed checkpoint",
        media_type=TEXT,
    )
    async def checkpoint(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        """The latest checkpoint as a C2SP signed note (origin, size, base64 root hash, a
        blank line, the Ed25519 signature line, then the cosignature line of every
        witness that cosigned it), or as JSON `{origin, size, root_hash, timestamp,
        key_id, signature, note}` with `Accept: application/json` (the same note). Keep
        one: `hamkari audit verify --url ... --checkpoint` proves later logs extend it."""
        latest = await latest_checkpoint(state.read_pool)
        if latest is None:
            return problem_response(
                404, "no-checkpoint", "No checkpoint yet", "no checkpoint has been signed yet"
            )
        lines = await cosignature_lines(state.read_pool, latest.size)
        if lines:
            latest = msgspec.structs.replace(latest, note=with_cosignatures(latest.note, lines))
        if _wants_json(request):
            return Response(latest, media_type=JSON)
        return Response(latest.note, media_type=TEXT)

    @get(
        "/checkpoints",
        guards=[READERS],
        operation_id="auditCheckpoints",
        summary="Signed checkpoints",
    )
    async def checkpoints(
        self,
        state: State,
        after: Annotated[int | None, position("Only sizes above this (0: all).")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> CheckpointList:
        """Every signed checkpoint of size greater than `after`, smallest first, a page at
        a time."""
        items = await list_checkpoints(state.read_pool, after, limit)
        return CheckpointList(
            checkpoints=items, next_after=items[-1].size if len(items) == limit else None
        )

    @post(
        "/checkpoints",
        guards=[requires(Role.ADMIN, Role.AUDITOR)],
        operation_id="auditSignCheckpoint",
        summary="Sign a checkpoint now",
        status_code=200,
    )
    async def sign_checkpoint(self, state: State) -> Response[Any]:
        """Signs the log as it stands (201), or returns the latest checkpoint when the log
        has not grown since (200). Refused (409) when the stored log is not consistent
        with the last signed checkpoint."""
        checkpointer: Checkpointer = state.checkpointer
        try:
            checkpoint, new = await checkpointer.sign_now()
        except CheckpointRefused as exc:
            return problem_response(409, "checkpoint-refused", "Checkpoint refused", str(exc))
        except AuditTreeError as exc:
            return _tree_problem(exc)
        return Response(checkpoint, status_code=201 if new else 200, media_type=JSON)

    @get(
        "/proofs/inclusion",
        guards=[READERS],
        operation_id="auditInclusionProof",
        summary="Prove an event is in the log",
    )
    async def inclusion(
        self,
        state: State,
        position: Annotated[int, position("The event's position (receipt).", minimum=1)],
        size: Annotated[
            int | None,
            position(
                "Tree size, at least `position`; default: the latest checkpoint's.", minimum=1
            ),
        ] = None,
    ) -> Response[Any]:
        """The RFC 9162 inclusion proof of the event at `position` in the tree of `size`
        events, with its leaf hash and the checkpoint signed at that size. Compare the
        leaf hash with your receipt's `hash`, then verify the proof against the
        checkpoint's root."""
        pool: asyncpg.Pool = state.read_pool
        if size is not None and position > size:
            return _bad(f"position {position} is not in a tree of {size} events")
        # with the size known, the proof is read alongside the head: one round trip less
        early = None if size is None else _attempt(prove_inclusion(pool, position - 1, size))
        head, latest, signed = await head_and_checkpoints(pool, [] if size is None else [size])
        if size is None:
            if latest is None or latest.size < position:
                covered = 0 if latest is None else latest.size
                return problem_response(
                    404,
                    "not-yet-checkpointed",
                    "Not yet in a checkpoint",
                    f"the latest checkpoint covers {covered} events; ask again after the "
                    "next one, or name a size",
                )
            size = latest.size
        outcome = await (early or _attempt(prove_inclusion(pool, position - 1, size)))
        if size > head:
            return await _beyond_or_behind(state, size, head)
        if isinstance(outcome, AuditTreeError):
            return _tree_problem(outcome)
        proof = outcome
        return Response(
            InclusionProofBody(
                position=position,
                leaf_index=proof.index,
                size=size,
                leaf_hash=proof.leaf_hash,
                proof=proof.proof,
                root_hash=proof.root_hash,
                checkpoint=signed.get(size),
            ),
            media_type=JSON,
        )

    @get(
        "/proofs/consistency",
        operation_id="auditConsistencyProof",
        summary="Prove the log only grew",
    )
    async def consistency(
        self,
        state: State,
        first: Annotated[int, position("The older tree size.", minimum=1, name="from")],
        to: Annotated[
            int | None,
            position(
                "The newer size, at least `from`; default: the latest checkpoint's.", minimum=1
            ),
        ] = None,
    ) -> Response[Any]:
        """The RFC 9162 consistency proof that the tree of `to` events extends the tree of
        `from` events, with both roots and the checkpoints signed at those sizes."""
        pool: asyncpg.Pool = state.read_pool
        if to is not None and first > to:
            return _bad(f"from ({first}) is larger than to ({to})")
        early = None if to is None else _attempt(prove_consistency(pool, first, to))
        head, latest, signed = await head_and_checkpoints(
            pool, [first] if to is None else [first, to]
        )
        if to is None:
            to = 0 if latest is None else latest.size
            if first > to:
                return _bad(f"from ({first}) is larger than to ({to}), the latest checkpoint")
        outcome = await (early or _attempt(prove_consistency(pool, first, to)))
        if to > head:
            return await _beyond_or_behind(state, to, head)
        if isinstance(outcome, AuditTreeError):
            return _tree_problem(outcome)
        proof = outcome
        return Response(
            ConsistencyProofBody(
                from_=first,
                to=to,
                proof=proof.proof,
                from_root_hash=proof.old_root,
                to_root_hash=proof.new_root,
                from_checkpoint=signed.get(first),
                to_checkpoint=signed.get(to),
            ),
            media_type=JSON,
        )

    @get(
        "/export",
        guards=[OVERSEERS],
        operation_id="auditExport",
        summary="Every event with its leaf hash (NDJSON)",
        media_type=EXPORT_MEDIA_TYPE,
    )
    async def export(
        self,
        state: State,
        first: Annotated[
            int, position("The first position, at most `to`.", minimum=1, name="from")
        ] = 1,
        last: Annotated[
            int | None,
            position("The last position; default: the head of the log.", minimum=1, name="to"),
        ] = None,
    ) -> Response[Any] | Stream:
        """One line per event in position order: `{"position", "leaf_hash", "entry"}`,
        where `entry` is the exact stored bytes (base64) and `leaf_hash` the server's
        SHA-256(0x00 || entry). Streamed: any length, constant memory. Verify it with
        `hamkari audit verify EXPORT --checkpoint CHECKPOINT.json --public-key KEY`."""
        pool: asyncpg.Pool = state.read_pool
        head = int(await pool.fetchval("SELECT last_position FROM log_head"))
        last = head if last is None else last
        if first > last:
            return _bad(f"from ({first}) is larger than to ({last})")
        if last > head:
            return await _beyond_or_behind(state, last, head)
        return Stream(export_pages(pool, first, last), media_type=EXPORT_MEDIA_TYPE)

    @get(
        "/public-key",
        operation_id="auditPublicKey",
        summary="The checkpoint signing key",
        media_type=TEXT,
    )
    async def public_key(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        """The Ed25519 public key checkpoints are signed with: PEM by default; with
        `Accept: application/json` also its C2SP verifier key (`vkey`) and key id."""
        verifier = state.checkpointer.signer.verifier
        if not _wants_json(request):
            return Response(verifier.pem, media_type=TEXT)
        return Response(
            PublicKeyBody(
                name=verifier.name,
                algorithm="ed25519",
                key_id=verifier.key_id.hex(),
                public_key=verifier.public_key,
                vkey=verifier.vkey,
                pem=verifier.pem,
            ),
            media_type=JSON,
        )
