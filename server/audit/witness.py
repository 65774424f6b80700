"""The witness: a client any party runs with its own key. Each round it fetches the
log's newest checkpoint, checks the log's signature, proves it extends the last one it
cosigned (its state directory), cosigns it (cosignature/v1) and submits the cosignature.
It never cosigns a smaller or an inconsistent tree: it keeps the evidence and refuses."""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx
import msgspec

from server.audit.checkpoints import parse_checkpoint_text
from server.audit.cosignature import Cosigner
from server.audit.merkle import verify_consistency
from server.audit.signing import NoteError, Verifier, split_note

STATE_FILE = "state.json"
EVIDENCE_DIR = "evidence"


class WitnessState(msgspec.Struct, kw_only=True):
    """What the witness last cosigned, and the log key it pinned on its first round.
    `cosignature` is its line over `checkpoint` (the log's signed note), kept so that a
    round cut short before submitting can submit the same line, never a second one."""

    origin: str
    log_key: str
    size: int
    root_hash: bytes
    checkpoint: str
    cosignature: str
    timestamp: int


_state_decoder = msgspec.json.Decoder(WitnessState)


class WitnessRefused(Exception):
    """The log showed a checkpoint the witness must not cosign; `evidence` holds both
    checkpoints and the failed proof."""

    def __init__(self, reason: str, evidence: Path) -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence = evidence


class WitnessError(Exception):
    """The round could not be run (network, server, files): nothing was concluded."""


Outcome = Literal["cosigned", "unchanged", "resubmitted"]


@dataclass(frozen=True)
class Round:
    outcome: Outcome
    size: int
    seconds: float


def load_state(directory: Path) -> WitnessState | None:
    try:
        return _state_decoder.decode((directory / STATE_FILE).read_bytes())
    except FileNotFoundError:
        return None
    except msgspec.DecodeError as exc:
        raise WitnessError(f"{directory / STATE_FILE} is unreadable: {exc}") from None


def save_state(directory: Path, state: WitnessState) -> None:
    """Write temp, fsync, rename, fsync the directory: after a crash the file holds the
    old state or the new one, whole."""
    target = directory / STATE_FILE
    temporary = directory / f".{STATE_FILE}.{os.getpid()}.tmp"
    with temporary.open("wb") as out:
        out.write(msgspec.json.encode(state))
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, target)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LogClient:
    """The public audit endpoints a witness reads and the one it posts to."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        try:
            return self.http.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise WitnessError(f"cannot reach {self.http.base_url}{path}: {exc}") from None

    def _ok(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 300:
            raise WitnessError(
                f"{response.request.method} {response.request.url.path}: "
                f"{response.status_code} {_detail(response)}"
            )
        return response

    def checkpoint(self) -> str:
        return self._ok(self._call("GET", "/v1/audit/checkpoint")).text

    def log_key(self) -> Verifier:
        response = self._call("GET", "/v1/audit/public-key", headers={"Accept": "application/json"})
        return Verifier.from_vkey(self._ok(response).json()["vkey"])

    def consistency(self, old: int, new: int) -> list[bytes]:
        response = self._call(
            "GET", "/v1/audit/proofs/consistency", params={"from": old, "to": new}
        )
        return [base64.b64decode(item) for item in self._ok(response).json()["proof"]]

    def submit(self, note: str) -> None:
        response = self._call(
            "POST",
            "/v1/audit/cosignatures",
            content=note.encode(),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        if response.status_code == 409 and "cosignature-replayed" in response.text:
            return  # the server has this very line already (a round cut short after posting)
        self._ok(response)


def run_round(
    client: LogClient,
    cosigner: Cosigner,
    directory: Path,
    log_key: Verifier | None = None,
    now: float | None = None,
) -> Round:
    """One round; WitnessRefused when the log shows what must not be cosigned."""
    started = time.monotonic()
    directory.mkdir(parents=True, exist_ok=True)
    state = load_state(directory)
    if state is not None:
        pinned = Verifier.from_vkey(state.log_key)
        if log_key is not None and log_key != pinned:
            raise WitnessError(f"--log-key is not the key this witness pinned ({state.log_key})")
        log_key = pinned
    note = client.checkpoint()
    if log_key is None:
        log_key = client.log_key()  # first round: trusted on first use, then pinned
    try:
        text = log_key.verify(note)
        origin, size, root = parse_checkpoint_text(text)
    except NoteError as exc:
        raise _refuse(directory, state, note, None, f"the newest checkpoint: {exc}") from None
    if state is not None:
        if origin != state.origin:
            reason = f"the checkpoint is of log {origin!r}, not {state.origin!r}"
            raise _refuse(directory, state, note, None, reason)
        if size < state.size:
            reason = f"the log shows size {size}, smaller than the {state.size} cosigned before"
            raise _refuse(directory, state, note, None, reason)
        if size == state.size:
            if root != state.root_hash:
                reason = f"the log shows another root for size {size} than the one cosigned"
                raise _refuse(directory, state, note, None, reason)
            if state.cosignature in note.split("\n"):
                return Round("unchanged", size, time.monotonic() - started)
            client.submit(_submission(state.checkpoint, state.cosignature))
            return Round("resubmitted", size, time.monotonic() - started)
        if state.size > 0:
            proof = client.consistency(state.size, size)
            if not verify_consistency(state.size, size, state.root_hash, root, proof):
                reason = (
                    f"the consistency proof from the cosigned size {state.size} to {size} "
                    "does not verify: the log does not extend what this witness cosigned"
                )
                raise _refuse(directory, state, note, proof, reason)
    # never earlier than the last cosignature: a verifier reads the newest as the latest
    timestamp = max(
        int(time.time() if now is None else now), 0 if state is None else state.timestamp
    )
    signed_note = _log_note(note)
    line = cosigner.cosign(text, timestamp)
    # kept before it is submitted: a crash after this point submits this same line
    save_state(
        directory,
        WitnessState(
            origin=origin,
            log_key=log_key.vkey,
            size=size,
            root_hash=root,
            checkpoint=signed_note,
            cosignature=line,
            timestamp=timestamp,
        ),
    )
    client.submit(_submission(signed_note, line))
    return Round("cosigned", size, time.monotonic() - started)


def _log_note(note: str) -> str:
    """The log's note without the cosignature lines other witnesses added."""
    text, _ = split_note(note)
    return text + "\n" + "".join(f"{line}\n" for line in note[len(text) + 1 :].split("\n")[:1])


def _submission(signed_note: str, line: str) -> str:
    """The checkpoint body, a blank line, and the witness's line (the log's own line is
    not needed: the server compares the body with what it signed)."""
    text, _ = split_note(signed_note)
    return f"{text}\n{line}\n"


def _refuse(
    directory: Path,
    state: WitnessState | None,
    shown: str,
    proof: list[bytes] | None,
    reason: str,
) -> WitnessRefused:
    """Keep the evidence: the checkpoint cosigned before, the one shown, the proof that
    failed (if any) and why, in a directory named for the time of the refusal."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    evidence = directory / EVIDENCE_DIR / stamp
    evidence.mkdir(parents=True, exist_ok=True)
    files = {
        "shown-checkpoint.txt": shown,
        "reason.txt": reason + "\n",
    }
    if state is not None:
        files["cosigned-checkpoint.txt"] = state.checkpoint + state.cosignature + "\n"
    if proof is not None:
        files["failed-proof.json"] = json.dumps(
            {
                "from": state.size if state else None,
                "from_root_hash": base64.b64encode(state.root_hash).decode() if state else None,
                "proof": [base64.b64encode(node).decode() for node in proof],
            },
            indent=2,
        )
    for name, content in files.items():
        path = evidence / name
        path.write_text(content, encoding="utf-8")
        with path.open("rb") as kept:
            os.fsync(kept.fileno())
    return WitnessRefused(reason, evidence)


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:200]
