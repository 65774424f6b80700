"""Attesting a report on the server: the stored tree's root at the report's position,
the signature by the log's key, and keeping the signed note under its short code."""

from __future__ import annotations

import datetime
from typing import Any

from server.audit.attestation import Attestation, attest
from server.audit.merkle import root_from_nodes, root_nodes
from server.audit.signing import Signer
from server.audit.tree_store import Reader, read_nodes


async def root_at(conn: Reader, size: int) -> bytes:
    """The RFC 9162 root of the first `size` events, from the stored tree (one read)."""
    return root_from_nodes(size, await read_nodes(conn, root_nodes(size)))


async def attest_report(
    conn: Reader,
    signer: Signer,
    *,
    report: str,
    parameters: dict[str, Any],
    as_of_position: int,
    content: Any,
) -> Attestation:
    """Sign that `content` is `report` with `parameters` as the log stood at
    `as_of_position`, and keep it under its code."""
    attestation = attest(
        signer,
        report=report,
        parameters=parameters,
        as_of_position=as_of_position,
        root=await root_at(conn, as_of_position),
        content=content,
        now=datetime.datetime.now(datetime.UTC),
    )
    partner = parameters.get("partner_id") if report == "partner" else None
    await conn.execute(
        "INSERT INTO report_attestations (code, report, partner_id, as_of_position, note)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING",
        attestation.code,
        report,
        partner,
        as_of_position,
        attestation.note,
    )
    return attestation


async def find(conn: Reader, code: str) -> tuple[str, str | None] | None:
    """(note, partner_id) of the attestation with this code, None when there is none."""
    row = await conn.fetchrow(
        "SELECT note, partner_id FROM report_attestations WHERE code = $1", code
    )
    return None if row is None else (row["note"], row["partner_id"])
