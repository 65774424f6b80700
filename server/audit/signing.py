"""C2SP signed notes with Ed25519: the server's signing key (a file, generated on first
run, never in the database), key ids, verifier keys, signing and verifying notes."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# C2SP signed-note signature type of a plain Ed25519 key
ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space open every signature line
SIGNATURE_SIZE = 64
KEY_ID_SIZE = 4
MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A note, a signature or a key is malformed, or a signature does not verify."""


def key_id(name: str, public_key: bytes, signature_type: int = ED25519) -> bytes:
    """The C2SP key id: SHA-256(name || 0x0A || signature type || public key)[:4]."""
    head = name.encode() + b"\n" + bytes([signature_type])
    return hashlib.sha256(head + public_key).digest()[:KEY_ID_SIZE]


def check_key_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class NamedKey:
    """A named Ed25519 public key and its C2SP verifier key
    `name+hex(key id)+base64(signature type || key)`; the signature type says what the key
    signs (0x01 a note, 0x04 a cosignature/v1)."""

    SIGNATURE_TYPE: ClassVar[int] = ED25519
    KIND: ClassVar[str] = "an Ed25519 key"

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key, self.SIGNATURE_TYPE)

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([self.SIGNATURE_TYPE]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        parts = vkey.strip().split("+", 2)  # the base64 may hold a "+" too
        if len(parts) != 3:
            raise NoteError("a verifier key is name+keyid+base64key")
        name, hex_id, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
            wanted_id = bytes.fromhex(hex_id)
        except ValueError as exc:
            raise NoteError(f"malformed verifier key: {exc}") from None
        if len(raw) != 33 or raw[0] != cls.SIGNATURE_TYPE:
            raise NoteError(f"the verifier key is not {cls.KIND}")
        key = cls(name, raw[1:])
        if key.key_id != wanted_id:
            raise NoteError("the verifier key's id does not match its name and key")
        return key


@dataclass(frozen=True)
class Verifier(NamedKey):
    """The log's key: it signs notes (checkpoints, attestations)."""

    @property
    def pem(self) -> str:
        key = Ed25519PublicKey.from_public_bytes(self.public_key)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def verify(self, note: str) -> str:
        """The text of `note` when it carries a valid signature by this key; NoteError if not.

        As C2SP says: lines by other keys are ignored; a line by this key that does not
        verify rejects the note."""
        text, signatures = split_note(note)
        for name, signature in signatures:
            if name != self.name or signature[:KEY_ID_SIZE] != self.key_id:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                    signature[KEY_ID_SIZE:], text.encode()
                )
            except InvalidSignature:
                raise NoteError(f"the signature by {self.name} does not verify") from None
            return text
        raise NoteError(f"the note has no signature by {self.name} (key id {self.key_id.hex()})")


@dataclass(frozen=True)
class Signer:
    """The server's Ed25519 key under a name (the log's origin)."""

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        check_key_name(self.name)

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, raw_public_key(self.private_key.public_key()))

    def sign(self, text: str) -> tuple[str, bytes]:
        """The signed note for `text` (which must end in a newline) and the raw signature."""
        if not text.endswith("\n") or "\n\n" in text:
            raise NoteError("a note's text ends with one newline and has no blank lines")
        signature = self.private_key.sign(text.encode())
        line = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {line}\n", signature


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """A signed note's text and its signature lines as (key name, key id || signature)."""
    if not note.endswith("\n"):
        raise NoteError("a signed note ends with a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("a signed note has a blank line before its signatures")
    text, block = note[: cut + 1], note[cut + 2 :]
    signatures: list[tuple[str, bytes]] = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"not a signature line: {line!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise NoteError(f"malformed signature line: {line!r}") from None
        if not name or len(signature) < KEY_ID_SIZE:
            raise NoteError(f"malformed signature line: {line!r}")
        signatures.append((name, signature))
    if not signatures or len(signatures) > MAX_SIGNATURES:
        raise NoteError("a signed note has between 1 and 100 signatures")
    return text, signatures


def load_verifier(text: str, name: str | None = None) -> Verifier:
    """A public key as an auditor keeps it: a C2SP verifier key line, or a PEM public key
    (then `name`, the log's origin, names it)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError as exc:
            raise NoteError(f"not a PEM public key: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise NoteError("the PEM public key is not an Ed25519 key")
        if name is None:
            raise NoteError("a PEM public key needs the key name (the log's origin)")
        return Verifier(name, raw_public_key(key))
    return Verifier.from_vkey(text)


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key in `path` (PKCS#8 PEM); generated and written (mode 0600) when the
    file does not exist. Safe when several server processes start at once."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Written under a temporary name, then linked into place: a reader never sees half a
    # key, and of two processes racing, the first link wins and the other reads it.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise NoteError(f"{path} does not hold an Ed25519 private key")
    return key
