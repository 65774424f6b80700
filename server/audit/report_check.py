"""`hamkari audit verify-report`: a report file and its attestation checked against an
export, a signed checkpoint and the log's public key, offline. In order: the signature;
that the checkpoint covers the attested position; that the export's first N entries
hash to the attested root; that the export is the signed log up to the checkpoint
(so the checkpoint extends the attested root); then the report recomputed from those N
entries, compared with the file row by row and with the signed digest."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from server.audit.attestation import (
    Attestation,
    AttestationError,
    Statement,
    content_digest,
    open_note,
    parse,
)
from server.audit.auditor import (
    AuditInputError,
    Report,
    Signed,
    open_signed,
    read_checkpoint_text,
    verifier_from_file,
)
from server.audit.recompute import ExportProblem, fold_export, recompute
from server.audit.signing import NoteError, Verifier
from server.audit.verify import split_lines, verify_export
from server.projections import formats
from server.projections.report_bodies import BadParameter, Body, content


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AuditInputError(f"{path}: {exc}") from None


def _export_lines(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as file:
            yield from split_lines(iter(lambda: file.read(1 << 20), b""))
    except OSError as exc:
        raise AuditInputError(f"{path}: {exc}") from None


def _report_file(
    raw: bytes, sidecar: Path | None
) -> tuple[dict[str, Any] | None, str | None, Attestation]:
    """(the JSON document, or None; the CSV text, or None; the attestation)."""
    text = raw.decode("utf-8-sig", errors="replace")
    if text.lstrip().startswith("{"):
        try:
            document = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise AuditInputError(f"the report is not JSON: {exc}") from None
        if not isinstance(document, dict):
            raise AuditInputError("the report is not a JSON object")
        if sidecar is None:
            if "attestation" not in document:
                raise AuditInputError("the report carries no attestation (ask with ?attest=true)")
            return document, None, _parse(raw)
        return document, None, _parse(_read(sidecar))
    if sidecar is None:
        raise AuditInputError(
            "a CSV or HXL report needs its attestation: --attestation FILE (the sidecar "
            "from /v1/reports/attestations/CODE)"
        )
    return None, text, _parse(_read(sidecar))


def _parse(raw: bytes) -> Attestation:
    try:
        return parse(raw)
    except AttestationError as exc:
        raise AuditInputError(f"the attestation cannot be read: {exc}") from None


def _checkpoint(paths: Sequence[Path], verifier: Verifier, report: Report) -> Signed | None:
    newest: Signed | None = None
    for path in paths:
        note, claimed = read_checkpoint_text(_read(path).decode(errors="replace"))
        try:
            signed = open_signed(note, verifier, claimed)
        except NoteError as exc:
            report.problems.append(f"checkpoint {path}: {exc}")
            continue
        if newest is None or signed.size > newest.size:
            newest = signed
    return newest


def verify_report(
    report_path: Path,
    export: Path,
    checkpoints: Sequence[Path],
    public_key: Path,
    sidecar: Path | None = None,
) -> Report:
    result = Report()
    document, csv_text, attestation = _report_file(_read(report_path), sidecar)
    statement = attestation.statement
    verifier = verifier_from_file(public_key, statement.origin)
    try:
        open_note(attestation.note, verifier)
    except AttestationError as exc:
        result.problems.append(f"signature: {exc}")
        return result
    n = statement.as_of_position
    result.notes.append(
        f"attestation {attestation.code}: report {statement.report!r} with "
        f"{_params(statement)} at position {n:,}, signed by {verifier.name} "
        f"at {statement.attested_at}"
    )
    signed = _checkpoint(checkpoints, verifier, result)
    if signed is None:
        result.problems.append("no checkpoint signed by the log's key was given")
        return result
    if signed.size < n:
        result.problems.append(
            f"the checkpoint (size {signed.size:,}) is older than the report (position {n:,}):"
            " get a newer one"
        )
        return result
    try:
        folded = fold_export(_export_lines(export), n)
    except ExportProblem as exc:
        result.problems.append(f"export: {exc}")
        return result
    if folded.root != statement.root:
        result.problems.append(
            f"root: the attested root is not the export's root at size {n:,}: the report "
            "was signed over another log"
        )
        return result
    outcome = verify_export(_export_lines(export), {signed.size: signed.root})
    result.absorb(outcome)
    if not outcome.ok:
        return result
    result.notes.append(
        f"the export's first {n:,} entries hash to the attested root; checkpoint "
        f"{signed.size:,} extends it"
    )
    try:
        body = recompute(folded, statement.report, statement.parameters)
    except BadParameter as exc:
        result.problems.append(f"parameters: the attested parameters cannot be used: {exc}")
        return result
    _compare(result, statement, body, document, csv_text)
    return result


def _params(statement: Statement) -> str:
    given = {k: v for k, v in statement.parameters.items() if v is not None}
    return ", ".join(f"{k}={v}" for k, v in sorted(given.items())) or "no parameters"


def _compare(
    result: Report,
    statement: Statement,
    body: Body,
    document: dict[str, Any] | None,
    csv_text: str | None,
) -> None:
    recomputed = content(body.document) if body.document is not None else None
    if document is not None:
        stated = document.get("as_of_position")
        if stated != statement.as_of_position:
            result.problems.append(
                f"position: the report says as_of_position {stated}, its attestation "
                f"{statement.as_of_position}: they are not of the same report"
            )
        first = _first_difference(content(document), recomputed)
        if first is not None:
            result.problems.append(first)
    if csv_text is not None:
        first = _first_line_difference(csv_text, body)
        if first is not None:
            result.problems.append(first)
    if recomputed is None or content_digest(recomputed) != statement.rows_sha256:
        result.problems.append(
            "digest: the signed rows_sha256 is not the digest of the report recomputed from "
            "the log: the server signed figures that are not the log's"
        )
    if not result.problems:
        result.notes.append(
            "recomputed offline from the export: every row and the signed digest agree"
        )


def _first_difference(given: dict[str, Any], recomputed: dict[str, Any] | None) -> str | None:
    if recomputed is None:
        return "report: the log registers nothing the report is about"
    rows, expected = given.get("rows"), recomputed.get("rows")
    if isinstance(rows, list) and isinstance(expected, list):
        for i, (row, want) in enumerate(zip(rows, expected, strict=False), start=1):
            if row != want:
                return f"row {i} differs: {_describe(row, want)}"
        if len(rows) != len(expected):
            return (
                f"rows: the report has {len(rows)} rows, the log gives {len(expected)}"
                f" (first missing or extra: row {min(len(rows), len(expected)) + 1})"
            )
    for key in sorted(set(given) | set(recomputed)):
        if key != "rows" and given.get(key) != recomputed.get(key):
            return (
                f"{key} differs: the report says {_short(given.get(key))}, recomputed from "
                f"the log with the attested parameters: {_short(recomputed.get(key))}"
            )
    return None


def _describe(row: Any, want: Any) -> str:
    if isinstance(row, dict) and isinstance(want, dict):
        changed = [k for k in sorted(set(row) | set(want)) if row.get(k) != want.get(k)]
        keys = ", ".join(f"{k}={want.get(k)!r}" for k in changed if k in want)
        head = ", ".join(
            f"{k}={row[k]!r}" for k in ("partner_id", "site_id", "sector", "month") if k in row
        )
        figures = "; ".join(
            f"{k} is {_short(row.get(k))} in the report, {_short(want.get(k))} in the log"
            for k in changed
        )
        return f"({head}) {figures}" if head else figures or keys
    return f"the report has {_short(row)}, the log {_short(want)}"


def _short(value: Any) -> str:
    text = msgspec.json.encode(value).decode()
    return text if len(text) <= 160 else text[:157] + "..."


def _first_line_difference(text: str, body: Body) -> str | None:
    if body.document is None:
        return "report: the log registers nothing the report is about"
    lines = list(csv.reader(io.StringIO(text)))
    hxl = len(lines) > 1 and bool(lines[1]) and lines[1][0].startswith("#")
    expected = list(csv.reader(io.StringIO(formats.to_csv(body.rows, body.columns, hxl=hxl))))
    for i, (line, want) in enumerate(zip(lines, expected, strict=False), start=1):
        if line != want:
            return f"line {i} differs: the file has {line}, the log gives {want}"
    if len(lines) != len(expected):
        return f"lines: the file has {len(lines)}, the log gives {len(expected)}"
    return None
