"""C2SP tlog-cosignature `cosignature/v1` with Ed25519: a witness's key (its verifier key
with signature type 0x04), the signed message, and the signature line a witness adds to
a checkpoint. Shared by the witness (which signs) and the server and auditors (which
verify); no I/O but reading and writing a key file."""

from __future__ import annotations

import base64
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from server.audit.signing import (
    KEY_ID_SIZE,
    SIGNATURE_PREFIX,
    SIGNATURE_SIZE,
    NamedKey,
    NoteError,
    check_key_name,
    raw_public_key,
)

# C2SP signed-note signature type of an Ed25519 cosignature/v1 key
COSIGNATURE_V1 = 0x04
HEADER = "cosignature/v1"
# key id || u64 timestamp || Ed25519 signature
LINE_BYTES = KEY_ID_SIZE + 8 + SIGNATURE_SIZE
MAX_TIMESTAMP = 2**63 - 1


def signed_message(checkpoint_text: str, timestamp: int) -> bytes:
    """What a cosignature signs: the header line, the time line, then the whole
    checkpoint body (its final newline included, no signature lines)."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"a cosignature's timestamp {timestamp} is out of range")
    return f"{HEADER}\ntime {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True)
class Cosignature:
    """One verified cosignature line: who, when (POSIX seconds), and the line itself."""

    name: str
    key_id: bytes
    timestamp: int
    signature: bytes
    line: str


@dataclass(frozen=True)
class CosignerKey(NamedKey):
    """A witness's public key under its name; `vkey` is its C2SP verifier key
    `name+hex(key id)+base64(0x04 || key)`."""

    SIGNATURE_TYPE: ClassVar[int] = COSIGNATURE_V1
    KIND: ClassVar[str] = "an Ed25519 cosignature/v1 key (type 0x04)"

    def parse(self, line: str) -> tuple[int, bytes] | None:
        """(timestamp, signature) of a signature line by this key; None for a line by
        another key; NoteError for a line by this key that is malformed."""
        name, raw = split_line(line)
        if name != self.name or raw[:KEY_ID_SIZE] != self.key_id:
            return None
        if len(raw) != LINE_BYTES:
            raise NoteError(f"the cosignature by {self.name} is not {LINE_BYTES} bytes")
        (timestamp,) = struct.unpack(">Q", raw[KEY_ID_SIZE : KEY_ID_SIZE + 8])
        if timestamp > MAX_TIMESTAMP:
            raise NoteError(f"the cosignature by {self.name} has a timestamp past 2^63 - 1")
        return timestamp, raw[KEY_ID_SIZE + 8 :]

    def verify(self, checkpoint_text: str, line: str) -> Cosignature | None:
        """The cosignature in `line` when it is this key's and verifies over the
        checkpoint body; None when the line is another key's; NoteError when it is this
        key's and does not verify."""
        parsed = self.parse(line)
        if parsed is None:
            return None
        timestamp, signature = parsed
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                signature, signed_message(checkpoint_text, timestamp)
            )
        except InvalidSignature:
            raise NoteError(f"the cosignature by {self.name} does not verify") from None
        return Cosignature(self.name, self.key_id, timestamp, signature, line)


@dataclass(frozen=True)
class Cosigner:
    """A witness's private key under its name."""

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        check_key_name(self.name)

    @property
    def key(self) -> CosignerKey:
        return CosignerKey(self.name, raw_public_key(self.private_key.public_key()))

    def cosign(self, checkpoint_text: str, timestamp: int) -> str:
        """The signature line (without its newline) cosigning the checkpoint body."""
        signature = self.private_key.sign(signed_message(checkpoint_text, timestamp))
        raw = self.key.key_id + struct.pack(">Q", timestamp) + signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(raw).decode()}"


def split_line(line: str) -> tuple[str, bytes]:
    """(key name, decoded bytes) of one signature line; NoteError if it is not one."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"not a signature line: {line[:80]!r}")
    name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not space or not name or any(ch.isspace() for ch in name) or "+" in name:
        raise NoteError(f"malformed signature line: {line[:80]!r}")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise NoteError(f"malformed signature line: {line[:80]!r}") from None
    if len(raw) < KEY_ID_SIZE:
        raise NoteError(f"malformed signature line: {line[:80]!r}")
    return name, raw


def signature_lines(note: str) -> tuple[str, list[str]]:
    """A signed note's text and its signature lines, each checked for shape only."""
    if not note.endswith("\n"):
        raise NoteError("a signed note ends with a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("a signed note has a blank line before its signatures")
    lines = note[cut + 2 : -1].split("\n")
    for line in lines:
        split_line(line)
    return note[: cut + 1], lines


# RFC 7468 lets text precede a PEM block: the key file names its witness there
NAME_HEADER = "witness: "


def write_new_key(path: Path, name: str) -> Cosigner:
    """A fresh Ed25519 key for witness `name`, written to `path` (PKCS#8 PEM after a
    `witness: NAME` line, mode 0600); FileExistsError when the file exists: a witness's
    key is never silently replaced."""
    check_key_name(name)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(f"{NAME_HEADER}{name}\n".encode() + pem)
        out.flush()
        os.fsync(out.fileno())
    return Cosigner(name, key)


def read_cosigner(path: Path, name: str | None = None) -> Cosigner:
    """The witness key in `path`, named by its file's `witness:` line or by `name`."""
    data = path.read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        raise NoteError(f"{path}: not a PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise NoteError(f"{path} does not hold an Ed25519 private key")
    if name is None:
        for line in data.decode(errors="replace").splitlines():
            if line.startswith(NAME_HEADER):
                name = line[len(NAME_HEADER) :].strip()
                break
    if name is None:
        raise NoteError(f"{path} has no `{NAME_HEADER}NAME` line: give the witness's name")
    return Cosigner(name, key)
