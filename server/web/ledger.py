"""The event log with filters, each event's receipt and inclusion proof (checked on the
server against the signed checkpoint that covers it), and the audit status: the latest
checkpoint, a verification made as the page is drawn, and how to verify offline."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromQuery

from schemas.events import EVENT_TYPES as CONTRACT_TYPES
from server.api.parameters import BLANK_OR_STREAM, blank_or, position
from server.api.parameters import position as position_of
from server.audit.checkpoints import Checkpoint, checkpoint_at, latest_checkpoint
from server.audit.merkle import verify_consistency, verify_inclusion
from server.audit.signing import NoteError
from server.audit.tree_store import AuditTreeError, prove_consistency, prove_inclusion
from server.eventstore.records import decode_entry
from server.projections.reading import PositionBeyondHead
from server.web import tables
from server.web.downloads import Table
from server.web.frame import asked_position, page, require_overseer, viewer

PAGE = 50
SCAN = 100_000
EVENT_TYPES = tuple(CONTRACT_TYPES)
_COLUMNS = "position, event_id, stream, version, type, recorded_at, entry, leaf_hash"


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _row(record: asyncpg.Record) -> dict[str, Any]:
    entry = decode_entry(record["entry"])
    meta = entry.metadata
    return {
        "position": record["position"],
        "id": str(record["event_id"]),
        "stream": record["stream"],
        "version": record["version"],
        "type": record["type"],
        "recorded_at": record["recorded_at"],
        "principal": meta.principal,
        "role": meta.role,
        "partner_id": meta.partner_id,
        "request_id": meta.request_id,
        "hash": bytes(record["leaf_hash"]).hex(),
        "data": entry.data,
    }


async def latest_events(pool: asyncpg.Pool, limit: int, upto: int) -> list[dict[str, Any]]:
    """The last `limit` events at or before `upto` (a page's as-of position)."""
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE position <= $1 ORDER BY position DESC LIMIT $2",
        upto,
        limit,
    )
    return [_row(r) for r in rows]


async def covering_checkpoint(pool: asyncpg.Pool, position: int) -> Checkpoint | None:
    """The first signed checkpoint whose tree includes `position`."""
    size = await pool.fetchval(
        "SELECT min(size) FROM checkpoints WHERE size >= $1 AND size > 0", position
    )
    return None if size is None else await checkpoint_at(pool, size)


class LedgerController(Controller):
    path = "/"
    include_in_schema = False

    @get("/log")
    async def log(
        self,
        request: Request[Any, Any, Any],
        type: FromQuery[str | None] = None,
        stream: Annotated[str | None, blank_or(BLANK_OR_STREAM, "a stream")] = None,
        before: Annotated[int | None, position("newer than this", minimum=1)] = None,
    ) -> Response[Any]:
        require_overseer(viewer(request))
        pool: asyncpg.Pool = request.app.state.pool
        at = asked_position(request)
        chosen_type = (type or "").strip() or None
        if chosen_type is not None and chosen_type not in EVENT_TYPES:
            raise ValidationException(f"no event type {chosen_type!r}")
        chosen_stream = (stream or "").strip() or None
        head = int(await pool.fetchval("SELECT last_position FROM log_head"))
        if at is not None:
            if at > head:
                raise PositionBeyondHead("at_position", at, head)
            head = at
        upto = head if before is None else min(head, before - 1)
        # newest first, walking the primary key down; a filter is checked as it goes, over
        # at most SCAN positions a page, so a rare type costs the same as a common one
        lowest = 0 if chosen_type is None and chosen_stream is None else max(0, upto - SCAN)
        records = await pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE position <= $1 AND position > $2"
            " AND ($3::text IS NULL OR type = $3)"
            " AND ($4::text IS NULL OR stream = $4)"
            " ORDER BY position DESC LIMIT $5",
            upto,
            lowest,
            chosen_type,
            chosen_stream,
            PAGE,
        )
        rows = [_row(r) for r in records]
        if len(rows) == PAGE:
            older = rows[-1]["position"] if rows[-1]["position"] > 1 else None
        else:
            older = lowest + 1 if lowest > 0 else None
        return await page(
            request,
            "log.html",
            "nav_log",
            as_of=head,
            at=at,
            tables={"log": Table(tables.EVENTS, rows)},
            rows=rows,
            types=EVENT_TYPES,
            chosen={"type": chosen_type or "", "stream": chosen_stream or ""},
            older=older,
            searched=(lowest + 1, upto) if lowest > 0 else None,
        )

    @get("/log/{position:int}")
    async def receipt(
        self,
        request: Request[Any, Any, Any],
        position: Annotated[int, position_of("an event's position", minimum=1, path=True)],
    ) -> Response[Any]:
        require_overseer(viewer(request))
        pool: asyncpg.Pool = request.app.state.pool
        record = await pool.fetchrow(f"SELECT {_COLUMNS} FROM events WHERE position = $1", position)
        if record is None:
            raise NotFoundException(f"no event at position {position}")
        event = _row(record)
        data = msgspec.json.format(bytes(event["data"]), indent=2).decode()
        checkpoint = await covering_checkpoint(pool, position)
        proof = None
        if checkpoint is not None:
            try:
                found = await prove_inclusion(pool, position - 1, checkpoint.size)
            except AuditTreeError as exc:
                proof = {"ok": False, "hashes": [], "error": str(exc)}
            else:
                ok = found.leaf_hash == bytes(record["leaf_hash"]) and verify_inclusion(
                    found.leaf_hash,
                    position - 1,
                    checkpoint.size,
                    found.proof,
                    checkpoint.root_hash,
                )
                proof = {"ok": ok, "hashes": [b64(h) for h in found.proof], "error": None}
        return await page(
            request,
            "receipt.html",
            "receipt",
            as_of=position,
            event=event,
            data=data,
            checkpoint=checkpoint,
            proof=proof,
            b64=b64,
        )

    @get("/audit")
    async def audit(
        self,
        request: Request[Any, Any, Any],
        position: Annotated[int | None, position_of("an event's position", minimum=1)] = None,
    ) -> Response[Any]:
        viewer(request)
        pool: asyncpg.Pool = request.app.state.pool
        head = int(await pool.fetchval("SELECT last_position FROM log_head"))
        latest = await latest_checkpoint(pool)
        # with the witnesses that cosigned each (server/audit/cosignatures.py)
        recent = await pool.fetch(
            "SELECT c.size, c.signed_at, coalesce(string_agg(s.witness_name, ', '"
            " ORDER BY s.witness_name), '') AS cosigned_by"
            " FROM (SELECT size, signed_at FROM checkpoints ORDER BY size DESC LIMIT 10) c"
            " LEFT JOIN cosignatures s ON s.checkpoint_size = c.size"
            " GROUP BY c.size, c.signed_at ORDER BY c.size DESC"
        )
        checks = await self._verify(request, latest, recent)
        covering = None
        if position is not None:
            if not 1 <= position <= head:
                raise ValidationException(f"position {position} is not in the log (1..{head})")
            covering = await covering_checkpoint(pool, position)
        return await page(
            request,
            "audit.html",
            "nav_audit",
            as_of=head,
            head=head,
            latest=latest,
            recent=recent,
            checks=checks,
            checked_at=datetime.now(UTC),
            position=position,
            covering=covering,
            b64=b64,
            origin=str(request.base_url).rstrip("/"),
        )

    async def _verify(
        self, request: Request[Any, Any, Any], latest: Checkpoint | None, recent: list[Any]
    ) -> list[tuple[str, bool, str | None]]:
        """Check the latest checkpoint's signature, and that the stored tree proves it
        extends the one before: what an auditor's `verify --url` checks, done here."""
        if latest is None:
            return []
        verifier = request.app.state.checkpointer.signer.verifier
        checks: list[tuple[str, bool, str | None]] = []
        try:
            verifier.verify(latest.note)
            checks.append(("verified_signature", True, None))
        except NoteError as exc:
            checks.append(("verified_signature", False, str(exc)))
        older = [r["size"] for r in recent if 0 < r["size"] < latest.size]
        if older:
            previous = await checkpoint_at(request.app.state.pool, older[0])
            assert previous is not None
            try:
                proof = await prove_consistency(request.app.state.pool, previous.size, latest.size)
                ok = verify_consistency(
                    previous.size, latest.size, previous.root_hash, latest.root_hash, proof.proof
                )
                checks.append(("verified_consistency", ok, None))
            except AuditTreeError as exc:
                checks.append(("verified_consistency", False, str(exc)))
        return checks
