"""The cosignature bytes, checked by a second verifier written here from the text of
C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature, "Format" and "Ed25519 signed
message") with another Ed25519 implementation (libsodium, through PyNaCl); no test
vector with a published witness key was found, so this is the independent check."""

from __future__ import annotations

import base64
import hashlib
import struct
from pathlib import Path

import nacl.exceptions
import nacl.signing
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.audit.cosignature import Cosigner, CosignerKey, read_cosigner, write_new_key
from server.audit.signing import NoteError

CHECKPOINT = "hamkari.tehran/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SEED = bytes(range(32))


def spec_verify(vkey: str, checkpoint_body: str, line: str) -> int:
    """Returns the cosignature's timestamp; raises unless it verifies.

    From the spec alone: a vkey is name+hex(key id)+base64(0x04 || 32-byte key); the key
    id is SHA-256(name || "\\n" || 0x04 || key)[:4]; the signature line is
    "— name base64(key id || u64 big-endian timestamp || 64-byte signature)"; the signed
    message is "cosignature/v1\\n" "time <decimal>\\n" then the checkpoint body."""
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    key_material = base64.b64decode(key_b64)
    assert key_material[0] == 0x04 and len(key_material) == 33
    public = key_material[1:]
    key_id = hashlib.sha256(name.encode() + b"\x0a" + b"\x04" + public).digest()[:4]
    assert key_id.hex() == key_id_hex
    dash, line_name, encoded = line.split(" ")
    assert dash == "\u2014" and line_name == name
    blob = base64.b64decode(encoded)
    assert len(blob) == 4 + 8 + 64 and blob[:4] == key_id
    timestamp = struct.unpack(">Q", blob[4:12])[0]
    message = b"cosignature/v1\n" + b"time " + str(timestamp).encode() + b"\n"
    message += checkpoint_body.encode()
    nacl.signing.VerifyKey(public).verify(message, blob[12:])
    return int(timestamp)


def cosigner() -> Cosigner:
    return Cosigner("witness.nrc.no", Ed25519PrivateKey.from_private_bytes(SEED))


def test_a_cosignature_verifies_with_an_independent_verifier() -> None:
    witness = cosigner()
    line = witness.cosign(CHECKPOINT, 1679315147)
    assert spec_verify(witness.key.vkey, CHECKPOINT, line) == 1679315147
    # the same key through libsodium: the public key both libraries derive is one
    assert nacl.signing.SigningKey(SEED).verify_key.encode() == witness.key.public_key


def test_the_independent_verifier_refuses_a_changed_checkpoint_or_time() -> None:
    witness = cosigner()
    line = witness.cosign(CHECKPOINT, 1679315147)
    with pytest.raises(nacl.exceptions.BadSignatureError):
        spec_verify(witness.key.vkey, CHECKPOINT.replace("20852163", "20852164"), line)
    name, encoded = line.split(" ")[1:]
    blob = bytearray(base64.b64decode(encoded))
    blob[11] ^= 1  # the timestamp's last byte: it is signed
    forged = f"\u2014 {name} {base64.b64encode(bytes(blob)).decode()}"
    with pytest.raises(nacl.exceptions.BadSignatureError):
        spec_verify(witness.key.vkey, CHECKPOINT, forged)


def test_a_signature_made_by_libsodium_from_the_spec_verifies_here() -> None:
    signing = nacl.signing.SigningKey(SEED)
    public = signing.verify_key.encode()
    name = "witness.nrc.no"
    key_id = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    message = b"cosignature/v1\ntime 1700000000\n" + CHECKPOINT.encode()
    blob = key_id + (1700000000).to_bytes(8, "big") + signing.sign(message).signature
    line = f"\u2014 {name} {base64.b64encode(blob).decode()}"
    material = base64.b64encode(bytes([4]) + public).decode()
    vkey = f"{name}+{key_id.hex()}+{material}"
    key = CosignerKey.from_vkey(vkey)
    cosignature = key.verify(CHECKPOINT, line)
    assert cosignature is not None and cosignature.timestamp == 1700000000
    with pytest.raises(NoteError):
        key.verify(CHECKPOINT.replace("hamkari", "other"), line)


def test_a_line_of_another_key_is_not_this_keys() -> None:
    other = Cosigner("witness.nrc.no", Ed25519PrivateKey.generate())
    assert cosigner().key.verify(CHECKPOINT, other.cosign(CHECKPOINT, 1)) is None


def test_keygen_writes_a_private_pem_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "witness.pem"
    made = write_new_key(path, "witness.nrc.no")
    assert path.stat().st_mode & 0o777 == 0o600
    assert b"-----BEGIN PRIVATE KEY-----" in path.read_bytes()
    assert read_cosigner(path).key == made.key
    with pytest.raises(FileExistsError):
        write_new_key(path, "witness.nrc.no")
