"""POST /v1/audit/cosignatures through the app: a registered witness's cosignature is
stored and served with the checkpoint; every bad submission is a problem answer and
leaves the cosignature table as it was."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.audit.checkpoints import sign_checkpoint
from server.audit.cosignature import Cosigner
from server.audit.signing import MAX_SIGNATURES, Signer, split_note
from server.auth.tokens import issue
from server.config import Settings
from server.eventstore import EventStore
from tests import builders as b
from tests.audit.helpers import fill

Client = AsyncTestClient[Litestar]
TEXT = {"Content-Type": "text/plain"}


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    quiet = msgspec.structs.replace(settings, checkpoint_events=0, checkpoint_seconds=0)
    async with AsyncTestClient(create_app(quiet)) as client:
        yield client


@pytest.fixture
async def admin(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        token = await issue(conn, name="test-admin", role="admin", partner_id=None)
    finally:
        await conn.close()
    return {"Authorization": f"Bearer {token}"}


def witness(name: str = "witness.nrc.no") -> Cosigner:
    return Cosigner(name, Ed25519PrivateKey.generate())


async def post(client: Client, auth: dict[str, str], type_name: str, data: Any) -> None:
    response = await client.post("/v1/events", json={"type": type_name, "data": data}, headers=auth)
    assert response.status_code == 201, response.text


async def register(client: Client, auth: dict[str, str], who: Cosigner) -> None:
    data = b.witness_registered(who.name, who.key.vkey)
    await post(client, auth, "WitnessRegistered", data)


async def signed(client: Client, auth: dict[str, str]) -> str:
    response = await client.post("/v1/audit/checkpoints", headers=auth)
    assert response.status_code in (200, 201), response.text
    note: str = response.json()["note"]
    return note


def cosigned(note: str, who: Cosigner, at: int | None = None) -> str:
    text, _ = split_note(note)
    return f"{text}\n{who.cosign(text, int(time.time()) if at is None else at)}\n"


async def stored(database_url: str) -> list[tuple[int, str]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT checkpoint_size, witness_name FROM cosignatures ORDER BY 1, 2"
        )
    finally:
        await conn.close()
    return [(row[0], row[1]) for row in rows]


async def submit(client: Client, body: str | bytes, **headers: str) -> Any:
    return await client.post("/v1/audit/cosignatures", content=body, headers={**TEXT, **headers})


async def test_a_registered_witness_cosigns_and_the_checkpoint_carries_it(
    client: Client, admin: dict[str, str], store: EventStore, database_url: str
) -> None:
    nrc, donor = witness(), witness("witness.donor.example")
    await register(client, admin, nrc)
    await register(client, admin, donor)
    await fill(store, 5)
    note = await signed(client, admin)
    answer = await submit(client, cosigned(note, nrc))  # no token: the signature is the key
    assert answer.status_code == 201, answer.text
    served = (await client.get("/v1/audit/checkpoint")).text
    assert served.startswith(note) and answer.text in served
    assert nrc.key.verify(split_note(served)[0], answer.text.rstrip("\n")) is not None
    as_json = await client.get("/v1/audit/checkpoint", headers={"Accept": "application/json"})
    assert as_json.json()["note"] == served
    # the directory projection lists the witnesses once it has caught up
    for _ in range(100):
        listing = (await client.get("/v1/audit/witnesses", headers=admin)).json()
        if len(listing["witnesses"]) == 2:
            break
        await asyncio.sleep(0.1)
    by_name = {w["witness_name"]: w for w in listing["witnesses"]}
    assert by_name["witness.nrc.no"]["cosigned"] == 1
    assert by_name["witness.nrc.no"]["verifier_key"] == nrc.key.vkey
    assert by_name["witness.donor.example"]["cosigned"] == 0
    assert by_name["witness.donor.example"]["latest_size"] is None
    size = int(note.split("\n")[1])
    assert listing["checkpoints"][0] == {
        "size": size,
        "signed_at": listing["checkpoints"][0]["signed_at"],
        "cosigned_by": ["witness.nrc.no"],
    }
    assert await stored(database_url) == [(size, "witness.nrc.no")]


async def test_every_bad_submission_is_a_problem_and_stores_nothing(
    client: Client, admin: dict[str, str], store: EventStore, database_url: str
) -> None:
    nrc, stranger, retired = witness(), witness("stranger.example"), witness("old.example")
    impostor = witness("witness.nrc.no")  # the registered name, another key
    await register(client, admin, nrc)
    await register(client, admin, retired)
    await post(client, admin, "WitnessRetired", b.witness_retired("old.example"))
    await fill(store, 3)
    old_note = await signed(client, admin)
    await fill(store, 3)
    note = await signed(client, admin)
    good = cosigned(note, nrc)
    assert (await submit(client, good)).status_code == 201
    before = await stored(database_url)
    text, _ = split_note(note)
    forged_size = text.replace(f"\n{text.split(chr(10))[1]}\n", "\n999\n")
    line = good.rstrip("\n").split("\n")[-1]
    raw = bytearray(base64.b64decode(line.split(" ")[-1]))
    raw[-1] ^= 1  # the signature's last byte
    bad_signature = good.replace(line, f"{line.rsplit(' ', 1)[0]} {base64.b64encode(raw).decode()}")
    cases = {
        "replayed": (good, 409, "cosignature-replayed"),
        "an older checkpoint after a newer": (cosigned(old_note, nrc), 409, "cosignature-stale"),
        "an unregistered witness": (cosigned(note, stranger), 403, "witness-not-registered"),
        "a wrong key under a registered name": (
            cosigned(note, impostor),
            403,
            "witness-not-registered",
        ),
        "a retired witness": (cosigned(note, retired), 403, "witness-retired"),
        "a size the log never signed": (
            f"{forged_size}\n{nrc.cosign(forged_size, int(time.time()))}\n",
            422,
            "checkpoint-not-signed",
        ),
        "a bad signature": (bad_signature, 422, "cosignature-invalid"),
        "garbage": ("hello\nworld\n", 400, "cosignature-malformed"),
        "a garbage signature line": (
            f"{text}\n— witness.nrc.no !!!\n",
            400,
            "cosignature-malformed",
        ),
        "no cosignature": (note, 400, "cosignature-malformed"),
        "not UTF-8": (b"\xff\xfe" + note.encode(), 400, "cosignature-malformed"),
        "a huge body": (note + "x" * (1 << 20), 413, "body-too-large"),
    }
    for case, (body, status, slug) in cases.items():
        answer = await submit(client, body)
        assert answer.status_code == status, (case, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json"), case
        assert slug in answer.json()["type"], (case, answer.json())
    wrong_type = await submit(client, good, **{"Content-Type": "application/json"})
    assert wrong_type.status_code == 415
    assert await stored(database_url) == before


async def test_a_cosignature_dated_in_the_future_is_refused(
    client: Client, admin: dict[str, str], store: EventStore, database_url: str
) -> None:
    nrc = witness()
    await register(client, admin, nrc)
    await fill(store, 2)
    note = await signed(client, admin)
    answer = await submit(client, cosigned(note, nrc, int(time.time()) + 86400))
    assert answer.status_code == 422 and "cosignature-invalid" in answer.json()["type"]
    assert await stored(database_url) == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE cosignatures SET line = line",
        "DELETE FROM cosignatures",
        "TRUNCATE cosignatures",
    ],
)
async def test_cosignatures_are_append_only(
    store: EventStore, pool: asyncpg.Pool, database_url: str, signer: Signer, statement: str
) -> None:
    await fill(store, 4)
    checkpoint, _ = await sign_checkpoint(pool, signer)
    nrc = witness()
    text, _ = split_note(checkpoint.note)
    line = nrc.cosign(text, 1)
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute(
            "INSERT INTO cosignatures (checkpoint_size, witness_name, key_id, cosigned_at,"
            " signature, line) VALUES ($1, $2, $3, 1, $4, $5)",
            checkpoint.size,
            nrc.name,
            nrc.key.key_id,
            bytes(64),
            line,
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute(statement)  # the server's role
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute(statement)
    finally:
        await owner.close()


async def test_a_served_note_carries_no_more_signatures_than_a_verifier_takes(
    client: Client, admin: dict[str, str], store: EventStore, database_url: str
) -> None:
    """C2SP lets a verifier refuse a note of more than 100 signatures, and ours does: with
    more cosigners than that, the note carries 99 beside the log's own, and still
    verifies; every cosignature stays stored and listed."""
    many = [witness(f"w{i:03}.example") for i in range(MAX_SIGNATURES + 1)]
    events = [
        {"type": "WitnessRegistered", "data": b.witness_registered(w.name, w.key.vkey)}
        for w in many
    ]
    response = await client.post("/v1/events", json=events, headers=admin)
    assert response.status_code == 201, response.text
    await fill(store, 3)
    note = await signed(client, admin)
    for who in many:
        answer = await submit(client, cosigned(note, who))
        assert answer.status_code == 201, answer.text
    served = (await client.get("/v1/audit/checkpoint")).text
    _text, signatures = split_note(served)  # refuses more than MAX_SIGNATURES
    assert len(signatures) == MAX_SIGNATURES
    assert len(await stored(database_url)) == MAX_SIGNATURES + 1
    carried = [line for line in served.splitlines() if line.startswith("— w")]
    assert carried[0].startswith("— w000.example ") and len(carried) == MAX_SIGNATURES - 1
