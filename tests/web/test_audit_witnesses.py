"""The dashboard's audit page names the witnesses that cosigned each recent checkpoint."""

from __future__ import annotations

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.audit.cosignature import Cosigner
from server.audit.signing import split_note
from tests import builders as b
from tests.web.conftest import Visit


async def test_the_audit_page_names_who_cosigned_each_checkpoint(visit: Visit) -> None:
    site = visit.site
    nrc = Cosigner("witness.nrc.no", Ed25519PrivateKey.generate())
    async with httpx.AsyncClient(base_url=site.url, timeout=30) as client:
        posted = await client.post(
            "/v1/events",
            headers=site.bearer("demo-admin"),
            json={
                "type": "WitnessRegistered",
                "data": b.witness_registered(nrc.name, nrc.key.vkey, partner_id="nrc"),
            },
        )
        assert posted.status_code == 201, posted.text
        signed = await client.post("/v1/audit/checkpoints", headers=site.bearer("demo-auditor"))
        text, _ = split_note(signed.json()["note"])
        cosigned = await client.post(
            "/v1/audit/cosignatures",
            content=f"{text}\n{nrc.cosign(text, 1_800_000_000 - 10**8)}\n",
            headers={"Content-Type": "text/plain"},
        )
        assert cosigned.status_code == 201, cosigned.text
    await visit.sign_in("demo-auditor")
    for lang in ("en", "fa"):
        await visit.language(lang)
        await visit.open("/audit")
        first = visit.page.locator(".cosigners").first
        assert await first.inner_text() == "witness.nrc.no"
    await visit.screenshot("fa-audit-witnesses")
