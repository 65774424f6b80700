"""The audit endpoints through the app, as an auditor's or a partner's script calls them."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.audit.checkpoints import open_checkpoint
from server.audit.merkle import root_from_leaves, verify_consistency, verify_inclusion
from server.audit.signing import Verifier
from server.audit.verify import verify_export
from server.auth.tokens import issue
from server.config import Settings
from server.eventstore import EventStore, Recorded
from tests.audit.helpers import fill, leaf_hashes

# The app runs on the test client's own loop: the tests write through their own store
# (another appender on the same database), never through the app's pool.
Client = AsyncTestClient[Litestar]


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    # no background checkpoints: each test signs when it means to
    quiet = msgspec.structs.replace(settings, checkpoint_events=0, checkpoint_seconds=0)
    async with AsyncTestClient(create_app(quiet)) as client:
        yield client


@pytest.fixture
async def auditor(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        token = await issue(conn, name="test-auditor", role="auditor", partner_id=None)
    finally:
        await conn.close()
    return {"Authorization": f"Bearer {token}"}


async def sign(client: Client, auth: dict[str, str]) -> dict[str, Any]:
    response = await client.post("/v1/audit/checkpoints", headers=auth)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def b64(text: str) -> bytes:
    return base64.b64decode(text)


async def test_the_key_and_the_latest_checkpoint_are_public(
    client: Client, store: EventStore, auditor: dict[str, str]
) -> None:
    missing = await client.get("/v1/audit/checkpoint")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")

    pem = await client.get("/v1/audit/public-key")
    assert pem.status_code == 200 and pem.text.startswith("-----BEGIN PUBLIC KEY-----")
    key = (await client.get("/v1/audit/public-key", headers={"Accept": "application/json"})).json()
    verifier = Verifier.from_vkey(key["vkey"])
    assert key["key_id"] == verifier.key_id.hex() and key["pem"] == pem.text

    await fill(store, 9)
    created = await client.post("/v1/audit/checkpoints", headers=auditor)
    assert created.status_code == 201
    again = await client.post("/v1/audit/checkpoints", headers=auditor)
    assert again.status_code == 200 and again.json() == created.json()

    note = await client.get("/v1/audit/checkpoint")
    assert note.headers["content-type"].startswith("text/plain")
    origin, size, root = open_checkpoint(note.text, verifier)
    assert (origin, size) == (key["name"], 9)
    as_json = (
        await client.get("/v1/audit/checkpoint", headers={"Accept": "application/json"})
    ).json()
    assert set(as_json) == {
        "origin",
        "size",
        "root_hash",
        "timestamp",
        "key_id",
        "signature",
        "note",
    }
    assert (as_json["note"], b64(as_json["root_hash"]), as_json["size"]) == (note.text, root, 9)
    assert as_json["key_id"] == verifier.key_id.hex()


async def test_a_receipt_is_proven_against_any_newer_checkpoint(
    client: Client, store: EventStore, auditor: dict[str, str]
) -> None:
    receipts: list[Recorded] = await fill(store, 20)
    first = await sign(client, auditor)
    await fill(store, 17, tag="later")
    latest = await sign(client, auditor)
    receipt = receipts[12]
    for checkpoint in (first, latest):
        response = await client.get(
            "/v1/audit/proofs/inclusion",
            params={"position": receipt.position, "size": checkpoint["size"]},
            headers=auditor,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert b64(body["leaf_hash"]) == receipt.hash
        assert body["checkpoint"] == checkpoint
        assert verify_inclusion(
            receipt.hash,
            receipt.position - 1,
            checkpoint["size"],
            [b64(h) for h in body["proof"]],
            b64(checkpoint["root_hash"]),
        )
    default = await client.get(
        "/v1/audit/proofs/inclusion", params={"position": 3}, headers=auditor
    )
    assert default.json()["size"] == latest["size"] == 37


async def test_consistency_proofs_link_checkpoints(
    client: Client, store: EventStore, auditor: dict[str, str]
) -> None:
    await fill(store, 11)
    old = await sign(client, auditor)
    await fill(store, 30)
    new = await sign(client, auditor)
    response = await client.get(
        "/v1/audit/proofs/consistency", params={"from": 11, "to": 41}, headers=auditor
    )
    body = response.json()
    assert (body["from"], body["to"]) == (11, 41)
    assert (body["from_checkpoint"], body["to_checkpoint"]) == (old, new)
    assert verify_consistency(
        11, 41, b64(old["root_hash"]), b64(new["root_hash"]), [b64(h) for h in body["proof"]]
    )
    listed = await client.get("/v1/audit/checkpoints", params={"after": 11}, headers=auditor)
    assert listed.json() == {"checkpoints": [new], "next_after": None}


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/v1/audit/proofs/inclusion", {"position": 6, "size": 5}, 400),
        ("/v1/audit/proofs/inclusion", {"position": 0, "size": 5}, 400),
        ("/v1/audit/proofs/inclusion", {"position": "x", "size": 5}, 400),
        ("/v1/audit/proofs/inclusion", {"size": 5}, 400),
        ("/v1/audit/proofs/inclusion", {"position": 1, "size": 11}, 404),
        ("/v1/audit/proofs/inclusion", {"position": 9}, 404),
        ("/v1/audit/proofs/consistency", {"from": 6, "to": 5}, 400),
        ("/v1/audit/proofs/consistency", {"from": 0, "to": 5}, 400),
        ("/v1/audit/proofs/consistency", {"from": 1, "to": 11}, 404),
        ("/v1/audit/export", {"from": 4, "to": 3}, 400),
        ("/v1/audit/export", {"from": 1, "to": 11}, 404),
        ("/v1/audit/checkpoints", {"limit": 0}, 400),
    ],
)
async def test_bad_parameters_are_problems(
    client: Client,
    store: EventStore,
    auditor: dict[str, str],
    path: str,
    params: dict[str, Any],
    status: int,
) -> None:
    await fill(store, 10)
    response = await client.get(path, params=params, headers=auditor)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status


async def test_the_export_carries_the_stored_bytes_and_verifies(
    client: Client, store: EventStore, auditor: dict[str, str], pool: asyncpg.Pool
) -> None:
    await fill(store, 45)
    checkpoint = await sign(client, auditor)
    response = await client.get("/v1/audit/export", headers=auditor)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = response.content.splitlines()
    rows = await pool.fetch("SELECT position, entry, leaf_hash FROM events ORDER BY position")
    assert [json.loads(line) for line in lines] == [
        {
            "position": row["position"],
            "leaf_hash": base64.b64encode(row["leaf_hash"]).decode(),
            "entry": base64.b64encode(row["entry"]).decode(),
        }
        for row in rows
    ]
    outcome = verify_export(lines, {45: b64(checkpoint["root_hash"])})
    assert outcome.ok and outcome.root == root_from_leaves(await leaf_hashes(pool))

    part = await client.get("/v1/audit/export", params={"from": 40, "to": 42}, headers=auditor)
    assert [json.loads(line)["position"] for line in part.content.splitlines()] == [40, 41, 42]


async def test_the_log_itself_needs_a_token(client: Client) -> None:
    for path in ("/v1/audit/export", "/v1/audit/checkpoints"):
        assert (await client.get(path)).status_code == 401
