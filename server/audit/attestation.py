"""Signed report attestations: the exact bytes of a statement that a report says what the
log says, signing it with the log's key, opening one, and its short code.

A statement is canonical JSON (sorted keys, no floats: RFC 8785 for our data):
    {"as_of_position": N, "attested_at": "2025-11-01T08:30:00Z", "origin": "<log>",
     "parameters": {...every parameter, null when not given...}, "report": "<name>",
     "root_hash": "<base64 RFC 9162 root of the first N events>",
     "rows_sha256": "<hex SHA-256 of the canonical JSON of the report's content>"}
It is signed as a C2SP signed note by the same key as the checkpoints, with the text
    hamkari report attestation v1\n<the statement>\n
whose first line cannot open a checkpoint (whose second line is a size), so neither can
pass for the other. The short code is the first 80 bits of SHA-256(note), in base32:
a reader types it into the verify page; it proves nothing alone, it finds the note.
docs/auditor-guide.md describes the same bytes for anyone checking one by hand."""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
from typing import Any

import msgspec

from server.audit.signing import NoteError, Signer, Verifier, split_note
from server.eventstore.records import canonical_json

HEADER = "hamkari report attestation v1"
_CODE_BYTES = 10  # 80 bits: 16 base32 characters, four groups of four


class AttestationError(ValueError):
    """An attestation is malformed, or its signature does not verify."""


class Statement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a report attests (see the module's docstring for its bytes)."""

    origin: str
    report: str
    parameters: dict[str, Any]
    as_of_position: int
    root_hash: str
    rows_sha256: str
    attested_at: str

    @property
    def root(self) -> bytes:
        try:
            return base64.b64decode(self.root_hash, validate=True)
        except ValueError:
            raise AttestationError("the statement's root_hash is not base64") from None


class Attestation(msgspec.Struct, frozen=True, kw_only=True):
    """As served beside a report: the statement (readable), the signed note (what the
    signature covers) and the short code."""

    statement: Statement
    note: str
    code: str


_statement_decoder = msgspec.json.Decoder(Statement)
_attestation_decoder = msgspec.json.Decoder(Attestation)


def statement_bytes(statement: Statement) -> bytes:
    return canonical_json(statement)


def note_text(statement: Statement) -> str:
    return f"{HEADER}\n{statement_bytes(statement).decode()}\n"


def content_digest(content: Any) -> str:
    """Hex SHA-256 of the canonical JSON of a report's content (rows and figures)."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def code_of(note: str) -> str:
    raw = base64.b32encode(hashlib.sha256(note.encode()).digest()[:_CODE_BYTES]).decode()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normal_code(text: str) -> str | None:
    """A code as typed (any case, spaces or dashes, 0 for O, 1 for I) -> its form; None
    when it cannot be one."""
    letters = re.sub(r"[\s-]", "", text.upper()).translate(str.maketrans("01", "OI"))
    if not re.fullmatch(r"[A-Z2-7]{16}", letters):
        return None
    return "-".join(letters[i : i + 4] for i in range(0, 16, 4))


def timestamp(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC to the second: `2025-11-01T08:30:00Z`."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def attest(
    signer: Signer,
    *,
    report: str,
    parameters: dict[str, Any],
    as_of_position: int,
    root: bytes,
    content: Any,
    now: datetime.datetime,
) -> Attestation:
    statement = Statement(
        origin=signer.name,
        report=report,
        parameters=parameters,
        as_of_position=as_of_position,
        root_hash=base64.b64encode(root).decode(),
        rows_sha256=content_digest(content),
        attested_at=timestamp(now),
    )
    note, _signature = signer.sign(note_text(statement))
    return Attestation(statement=statement, note=note, code=code_of(note))


def read_statement(note: str) -> Statement:
    """The statement a note carries, unverified (to show it, or to name its key)."""
    try:
        text, _ = split_note(note)
    except NoteError as exc:
        raise AttestationError(f"not a signed attestation: {exc}") from None
    header, _, rest = text.partition("\n")
    if header != HEADER:
        raise AttestationError(f"not a report attestation: it opens with {header[:60]!r}")
    line = rest[:-1]
    try:
        statement = _statement_decoder.decode(line)
    except msgspec.DecodeError as exc:
        raise AttestationError(f"the statement cannot be read: {exc}") from None
    if statement_bytes(statement).decode() != line:
        raise AttestationError("the statement is not in its canonical form")
    return statement


def open_note(note: str, verifier: Verifier) -> Statement:
    """The statement of a note signed by `verifier`; AttestationError when it is not."""
    statement = read_statement(note)
    try:
        verifier.verify(note)
    except NoteError as exc:
        raise AttestationError(f"the signature does not hold: {exc}") from None
    if statement.origin != verifier.name:
        raise AttestationError(
            f"the statement names log {statement.origin!r}, the key is {verifier.name!r}'s"
        )
    return statement


def parse(text: str | bytes) -> Attestation:
    """An attestation as kept: a JSON report carrying `"attestation"`, the attestation
    object alone (a sidecar), the signed note, or the note in base64url (a QR code)."""
    raw = text.decode() if isinstance(text, bytes) else text
    stripped = raw.strip()
    if stripped.startswith("{"):
        try:
            found = msgspec.json.decode(stripped)
        except msgspec.DecodeError as exc:
            raise AttestationError(f"not JSON: {exc}") from None
        if isinstance(found, dict) and isinstance(found.get("attestation"), dict):
            found = found["attestation"]
        try:
            attestation = _attestation_decoder.decode(msgspec.json.encode(found))
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise AttestationError(f"no attestation in it: {exc}") from None
        if read_statement(attestation.note) != attestation.statement:
            raise AttestationError("the attestation's statement disagrees with its signed note")
        return attestation
    if stripped.startswith(HEADER):
        note = stripped + "\n"
    else:
        try:
            note = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4)).decode()
        except ValueError:
            raise AttestationError("neither an attestation, a signed note nor its code") from None
    return Attestation(statement=read_statement(note), note=note, code=code_of(note))


def qr_payload(note: str) -> str:
    """The note in base64url without padding: what a printed report's QR code carries."""
    return base64.urlsafe_b64encode(note.encode()).decode().rstrip("=")
