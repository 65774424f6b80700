"""The auditor's two checks: an export file against signed checkpoints and a public key
(offline, no database), and a live server against a checkpoint kept from before."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

from server.audit.checkpoints import Checkpoint, open_checkpoint, parse_checkpoint_text
from server.audit.cosignature import CosignerKey, signature_lines
from server.audit.merkle import verify_consistency
from server.audit.signing import NoteError, Verifier, load_verifier, split_note
from server.audit.verify import Outcome, Progress, split_lines, verify_export

_checkpoint_decoder = msgspec.json.Decoder(Checkpoint)


class _CheckpointPage(msgspec.Struct):
    checkpoints: list[Checkpoint]


_page_decoder = msgspec.json.Decoder(_CheckpointPage)


class AuditInputError(Exception):
    """A file or a server answer the auditor gave us cannot be used at all (exit 2)."""


@dataclass(frozen=True)
class Signed:
    """A checkpoint whose signature verified."""

    origin: str
    size: int
    root: bytes
    note: str


@dataclass
class Report:
    """Everything checked, in order; `ok` only when nothing failed."""

    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    first_bad: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and self.first_bad is None

    def absorb(self, outcome: Outcome) -> None:
        self.problems += outcome.problems
        self.notes += outcome.notes
        if outcome.first_bad is not None:
            self.first_bad = outcome.first_bad
        if outcome.ok and outcome.root is not None:
            root = base64.b64encode(outcome.root).decode()
            self.notes.append(
                f"re-hashed {outcome.target_size:,} entries; root {root} matches the signed"
                " checkpoints"
            )


# -- reading what the auditor keeps -----------------------------------------------------


def read_checkpoint_text(text: str) -> tuple[str, Checkpoint | None]:
    """The signed note in a checkpoint file: the JSON the server serves (its `note`), or
    the note itself."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            checkpoint = _checkpoint_decoder.decode(stripped.encode())
        except msgspec.DecodeError as exc:
            raise AuditInputError(f"not a checkpoint: {exc}") from None
        return checkpoint.note, checkpoint
    return text, None


def open_signed(note: str, verifier: Verifier, claimed: Checkpoint | None = None) -> Signed:
    """Check a checkpoint's signature (NoteError if bad) and that any JSON fields next to
    the note say what the note says."""
    origin, size, root = open_checkpoint(note, verifier)
    if claimed is not None and (claimed.size, claimed.root_hash) != (size, root):
        raise NoteError("the checkpoint's JSON fields disagree with its signed note")
    return Signed(origin, size, root, note)


def note_origin(note: str) -> str:
    """The origin of a note, before its signature is checked (to name a PEM key)."""
    try:
        text, _ = split_note(note)
        return parse_checkpoint_text(text)[0]
    except NoteError as exc:
        raise AuditInputError(f"not a signed checkpoint: {exc}") from None


def verifier_from_file(path: Path, origin: str) -> Verifier:
    try:
        return load_verifier(path.read_text(), origin)
    except (OSError, NoteError) as exc:
        raise AuditInputError(f"{path}: {exc}") from None


def witness_key_from_file(path: Path) -> CosignerKey:
    try:
        return CosignerKey.from_vkey(path.read_text())
    except (OSError, NoteError) as exc:
        raise AuditInputError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class Quorum:
    """K of these witnesses must have cosigned the checkpoint relied on (K = 0: none)."""

    witnesses: Sequence[CosignerKey] = ()
    needed: int = 0


def check_quorum(signed: Signed, quorum: Quorum, report: Report) -> None:
    """Count the witnesses whose cosignature of `signed` verifies; a problem naming the
    missing ones when fewer than `quorum.needed` did."""
    if quorum.needed <= 0:
        return
    text, lines = signature_lines(signed.note)
    cosigned: list[str] = []
    for key in quorum.witnesses:
        for line in lines:
            try:
                if key.verify(text, line) is not None:
                    cosigned.append(key.name)
                    break
            except NoteError as exc:
                report.problems.append(f"checkpoint {signed.size:,}: {exc}")
                break
    missing = [key.name for key in quorum.witnesses if key.name not in cosigned]
    if len(cosigned) >= quorum.needed:
        report.notes.append(
            f"checkpoint {signed.size:,} cosigned by {len(cosigned)} of the witnesses given "
            f"({', '.join(cosigned)}); {quorum.needed} needed"
        )
        return
    report.problems.append(
        f"checkpoint {signed.size:,} is cosigned by {len(cosigned)} of the witnesses given, "
        f"{quorum.needed} needed; not cosigned by: {', '.join(missing)}"
    )


# -- offline ---------------------------------------------------------------------------


def verify_offline(
    export: Path,
    checkpoints: Sequence[Path],
    public_key: Path,
    progress: Progress | None,
    quorum: Quorum = Quorum(),
) -> Report:
    report = Report()
    trusted: dict[int, bytes] = {}
    relied_on: Signed | None = None
    verifier: Verifier | None = None
    for path in checkpoints:
        try:
            note, claimed = read_checkpoint_text(path.read_text())
        except OSError as exc:
            raise AuditInputError(f"{path}: {exc}") from None
        if verifier is None:
            verifier = verifier_from_file(public_key, note_origin(note))
        try:
            signed = open_signed(note, verifier, claimed)
        except NoteError as exc:
            report.problems.append(f"{path}: {exc}")
            continue
        trusted[signed.size] = signed.root
        report.notes.append(f"{path}: signed by {verifier.name}, size {signed.size:,}")
        if relied_on is None or signed.size > relied_on.size:
            relied_on = signed
    if relied_on is None:
        return report
    check_quorum(relied_on, quorum, report)
    try:
        with export.open("rb") as file:
            chunks = iter(lambda: file.read(1 << 20), b"")
            report.absorb(verify_export(split_lines(chunks), trusted, progress=progress))
    except OSError as exc:
        raise AuditInputError(f"{export}: {exc}") from None
    return report


# -- live ------------------------------------------------------------------------------


class AuditClient:
    """The audit endpoints of a Hamkari server, over httpx."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, **params: Any) -> httpx.Response:
        try:
            response = self.http.get(path, params=params, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise AuditInputError(f"cannot reach {self.http.base_url}{path}: {exc}") from None
        if response.status_code != 200:
            raise AuditInputError(f"GET {path}: {response.status_code} {_detail(response)}")
        return response

    def public_key(self) -> Verifier:
        return Verifier.from_vkey(self._get("/v1/audit/public-key").json()["vkey"])

    def newest_checkpoint(self) -> Checkpoint:
        return _checkpoint_decoder.decode(self._get("/v1/audit/checkpoint").content)

    def checkpoints(self, after: int, upto: int) -> Iterator[Checkpoint]:
        while after < upto:
            response = self._get("/v1/audit/checkpoints", after=after, limit=1000)
            items = _page_decoder.decode(response.content).checkpoints
            if not items:
                return
            for item in items:
                if item.size > upto:
                    return
                yield item
            after = items[-1].size

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        body = self._get("/v1/audit/proofs/consistency", **{"from": old_size, "to": new_size})
        return [base64.b64decode(item) for item in body.json()["proof"]]

    def export(self, first: int, last: int) -> Iterator[bytes]:
        """Lines of the export first..last; when the log is shorter, as much as there is
        (the verifier then names the first missing position)."""
        for params in ({"from": first, "to": last}, {"from": first}):
            with self.http.stream("GET", "/v1/audit/export", params=params) as response:
                if response.status_code == 404 and "to" in params:
                    continue
                if response.status_code != 200:
                    response.read()
                    raise AuditInputError(f"GET export: {response.status_code} {_detail(response)}")
                yield from split_lines(response.iter_raw(1 << 16))
                return


def verify_live(
    url: str,
    old_checkpoint: Path,
    public_key: Path | None,
    token: str | None,
    progress: Progress | None,
    quorum: Quorum = Quorum(),
) -> Report:
    report = Report()
    try:
        note, claimed = read_checkpoint_text(old_checkpoint.read_text())
    except OSError as exc:
        raise AuditInputError(f"{old_checkpoint}: {exc}") from None
    client = AuditClient(url, token)
    try:
        if public_key is not None:
            verifier = verifier_from_file(public_key, note_origin(note))
        else:
            # Fetched from the server: trusted only because it must verify the checkpoint
            # the auditor kept, which the server cannot forge.
            verifier = client.public_key()
        try:
            old = open_signed(note, verifier, claimed)
        except NoteError as exc:
            report.problems.append(f"{old_checkpoint}: {exc} (with key {verifier.vkey})")
            return report
        report.notes.append(f"your checkpoint: size {old.size:,}, signed by {verifier.name}")
        newest_json = client.newest_checkpoint()
        try:
            newest = open_signed(newest_json.note, verifier, newest_json)
        except NoteError as exc:
            report.problems.append(f"the server's newest checkpoint: {exc}")
            return report
        report.notes.append(f"newest checkpoint: size {newest.size:,}")
        check_quorum(newest, quorum, report)
        _check_extension(client, old, newest, report)
        trusted = {old.size: old.root, newest.size: newest.root}
        for listed in client.checkpoints(0, max(old.size, newest.size)):
            try:
                signed = open_signed(listed.note, verifier, listed)
            except NoteError as exc:
                report.problems.append(f"checkpoint {listed.size}: {exc}")
                continue
            trusted.setdefault(signed.size, signed.root)
            if trusted[signed.size] != signed.root:
                report.problems.append(f"two signed checkpoints of size {signed.size} differ")
        target = max(trusted)
        outcome = verify_export(
            client.export(1, target), trusted, prover=client.consistency, progress=progress
        )
        report.absorb(outcome)
    finally:
        client.close()
    return report


def _check_extension(client: AuditClient, old: Signed, newest: Signed, report: Report) -> None:
    """The consistency proof from the auditor's checkpoint to the newest one."""
    if old.origin != newest.origin:
        report.problems.append(f"origin {newest.origin!r} is not your log's {old.origin!r}")
    if newest.size < old.size:
        report.problems.append(
            f"the newest checkpoint ({newest.size:,}) is smaller than yours ({old.size:,}):"
            " the log was cut back"
        )
    elif newest.size == old.size:
        if newest.root != old.root:
            report.problems.append(f"two signed checkpoints of size {old.size} differ")
    elif old.size > 0:
        try:
            proof = client.consistency(old.size, newest.size)
        except AuditInputError as exc:
            report.problems.append(f"no consistency proof from your checkpoint: {exc}")
            return
        if verify_consistency(old.size, newest.size, old.root, newest.root, proof):
            report.notes.append(
                f"consistency proof {old.size:,} -> {newest.size:,}: the log extends yours"
            )
        else:
            report.problems.append(
                f"the consistency proof from your checkpoint ({old.size:,}) to the newest "
                f"({newest.size:,}) does not verify"
            )


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:200]
