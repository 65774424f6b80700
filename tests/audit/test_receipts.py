"""A partner's receipt proven over HTTP long after the post, who may read which part of
the audit log, and a checkpoint the server refuses to sign over a rewritten log."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.audit.checkpoints import open_checkpoint
from server.audit.merkle import Frontier, verify_consistency, verify_inclusion
from server.audit.signing import Verifier
from server.config import Settings
from tests.audit.helpers import leaf_hashes
from tests.http_roles import ROLES, Client, event, post, role_headers


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    # no background checkpoints: each test signs when it means to
    quiet = msgspec.structs.replace(settings, checkpoint_events=0, checkpoint_seconds=0)
    async with AsyncTestClient(create_app(quiet)) as client:
        yield client


@pytest.fixture
async def tokens(database_url: str) -> dict[str, dict[str, str]]:
    return await role_headers(database_url)


async def sign(client: Client, auth: dict[str, str]) -> dict[str, Any]:
    response = await client.post("/v1/audit/checkpoints", headers=auth)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def deliveries(client: Client, auth: dict[str, str], count: int) -> list[dict[str, Any]]:
    receipts: list[dict[str, Any]] = await post(
        client, auth, [event("ServiceDelivered") for _ in range(count)]
    )
    return receipts


def b64(text: str) -> bytes:
    return base64.b64decode(text)


async def test_a_partner_proves_its_receipt_against_later_checkpoints(
    client: Client, tokens: dict[str, dict[str, str]]
) -> None:
    nrc = tokens["nrc"]
    await post(client, tokens["admin"], [event("PartnerRegistered"), event("SiteRegistered")])
    receipt = (await deliveries(client, nrc, 1))[0]
    await deliveries(client, nrc, 6)
    first = await sign(client, tokens["auditor"])
    await deliveries(client, nrc, 11)
    await sign(client, tokens["admin"])

    # what the partner does months later, with its receipt and its own token
    key = await client.get("/v1/audit/public-key", headers={"Accept": "application/json"})
    verifier = Verifier.from_vkey(key.json()["vkey"])
    note = await client.get("/v1/audit/checkpoint")
    _, size, root = open_checkpoint(note.text, verifier)  # the signature is checked here
    assert size == 2 + 7 + 11
    proof = await client.get(
        "/v1/audit/proofs/inclusion", params={"position": receipt["position"]}, headers=nrc
    )
    assert proof.status_code == 200, proof.text
    body = proof.json()
    assert body["size"] == size and body["checkpoint"]["note"] == note.text
    # receipts carry the leaf hash in hex, the audit endpoints in base64
    leaf = b64(body["leaf_hash"])
    assert leaf.hex() == receipt["hash"]
    assert verify_inclusion(
        leaf, receipt["position"] - 1, size, [b64(h) for h in body["proof"]], root
    )
    # and against the first checkpoint signed after the post
    older = await client.get(
        "/v1/audit/proofs/inclusion",
        params={"position": receipt["position"], "size": first["size"]},
        headers=nrc,
    )
    old = older.json()
    assert verify_inclusion(
        leaf, receipt["position"] - 1, first["size"], [b64(h) for h in old["proof"]],
        b64(first["root_hash"]),
    )  # fmt: skip
    # a proof of the receipt against a root it is not in fails: the check is not vacuous
    assert not verify_inclusion(
        leaf, receipt["position"] - 1, size, [b64(h) for h in old["proof"]], root
    )
    linked = await client.get(
        "/v1/audit/proofs/consistency", params={"from": first["size"], "to": size}, headers=nrc
    )
    assert verify_consistency(
        first["size"], size, b64(first["root_hash"]), root, [b64(h) for h in linked.json()["proof"]]
    )


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/v1/audit/checkpoint", {"anonymous", "nrc", "coordinator", "auditor", "admin"}),
        ("GET", "/v1/audit/public-key", {"anonymous", "nrc", "coordinator", "auditor", "admin"}),
        ("GET", "/v1/audit/checkpoints", {"nrc", "coordinator", "auditor", "admin"}),
        (
            "GET",
            "/v1/audit/proofs/inclusion?position=1",
            {"nrc", "coordinator", "auditor", "admin"},
        ),
        # public: a witness reads it with nothing but its key
        (
            "GET",
            "/v1/audit/proofs/consistency?from=1",
            {"anonymous", "nrc", "coordinator", "auditor", "admin"},
        ),
        ("GET", "/v1/audit/witnesses", {"nrc", "coordinator", "auditor", "admin"}),
        ("GET", "/v1/audit/export", {"coordinator", "auditor", "admin"}),
        ("POST", "/v1/audit/checkpoints", {"auditor", "admin"}),
    ],
)
async def test_who_may_read_which_part_of_the_audit_log(
    client: Client,
    tokens: dict[str, dict[str, str]],
    method: str,
    path: str,
    allowed: set[str],
) -> None:
    await post(client, tokens["admin"], [event("PartnerRegistered"), event("SiteRegistered")])
    await sign(client, tokens["admin"])
    for who in ("anonymous", *ROLES):
        response = await client.request(method, path, headers=tokens.get(who, {}))
        if who in allowed:
            assert response.status_code in (200, 201), (who, response.text)
        else:
            assert response.status_code == (401 if who == "anonymous" else 403), (who, path)
            assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_checkpoint_over_a_rewritten_log_is_refused_and_the_last_one_stays(
    client: Client, tokens: dict[str, dict[str, str]], database_url: str
) -> None:
    await post(client, tokens["admin"], [event("PartnerRegistered"), event("SiteRegistered")])
    await deliveries(client, tokens["nrc"], 8)
    kept = await sign(client, tokens["auditor"])
    assert kept["size"] == 10
    # A superuser rewrites event 4 with a leaf hash that fits, rebuilds the frontier and
    # the stored nodes from the new leaves so that the tree itself is self-consistent,
    # and lets the log grow.
    owner = await asyncpg.connect(database_url)
    try:
        leaves = await leaf_hashes(owner)
        forged = bytes(32)
        leaves[3] = forged
        _, nodes = Frontier().extend(leaves)
        await owner.execute("ALTER TABLE events DISABLE TRIGGER USER")
        await owner.execute("ALTER TABLE merkle_nodes DISABLE TRIGGER USER")
        await owner.execute("UPDATE events SET leaf_hash = $1 WHERE position = 4", forged)
        await owner.execute("DELETE FROM merkle_nodes")
        await owner.executemany(
            "INSERT INTO merkle_nodes (level, index, hash) VALUES ($1, $2, $3)",
            [(n.level, n.index, n.hash) for n in nodes if n.level > 0 and n.level % 4 == 0],
        )
        frontier = Frontier().advance(leaves)
        await owner.execute("UPDATE log_head SET frontier = $1", frontier.to_bytes())
    finally:
        await owner.close()
    await deliveries(client, tokens["nrc"], 5)

    refused = await client.post("/v1/audit/checkpoints", headers=tokens["auditor"])
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("checkpoint-refused")
    assert "not consistent with the checkpoint signed at size 10" in problem["detail"]
    latest = await client.get("/v1/audit/checkpoint", headers={"Accept": "application/json"})
    assert latest.json() == kept
    listed = await client.get("/v1/audit/checkpoints", headers=tokens["auditor"])
    assert [c["size"] for c in listed.json()["checkpoints"]] == [10]
