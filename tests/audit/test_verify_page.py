"""The printed partner record's attestation (a code and a QR code) and the dashboard's
verify page: a code or a pasted statement shows what it attests and whether it holds
against the live log; a forged one does not; another partner's record stays hidden."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.audit.attestation import parse, qr_payload
from server.auth.tokens import issue
from server.config import Settings
from server.eventstore import EventStore
from tests.projections.helpers import append
from tests.projections.scenario import EVENTS, ON

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    fast = msgspec.structs.replace(settings, poll_interval=0.1, projection_lock_retry=0.1)
    # https: the dashboard's cookies are Secure
    async with AsyncTestClient(create_app(fast), base_url="https://testserver.local") as client:
        yield client


async def signed_in(client: Client, database_url: str, role: str, partner: str | None) -> str:
    """A session cookie header for a new token of `role`."""
    conn = await asyncpg.connect(database_url)
    try:
        token = await issue(
            conn, name=f"test-{role}-{partner or 'all'}", role=role, partner_id=partner
        )
    finally:
        await conn.close()
    client.cookies.clear()
    form = await client.get("/sign-in")
    [csrf] = set(re.findall(r'name="_csrf_token" value="([^"]+)"', form.text))
    answer = await client.post(
        "/sign-in",
        data={"token": token, "_csrf_token": csrf},
        headers={"Cookie": f"hamkari_csrf={form.cookies['hamkari_csrf']}"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    client.cookies.clear()
    return "; ".join(f"{k}={v}" for k, v in answer.cookies.items() if k.startswith("hamkari_s"))


async def caught_up(client: Client, store: EventStore, database_url: str) -> None:
    """The scenario appended, and every projection the record reads has reached it."""
    head = (await append(store, EVENTS))[-1].position
    got = await client.get(
        "/v1/reports/partners/nrc",
        params={"min_position": head},
        headers={"Authorization": "Bearer " + await token(database_url)},
    )
    assert got.status_code == 200, got.text


async def page(client: Client, session: str, url: str, **params: str) -> tuple[int, str]:
    client.cookies.clear()
    got = await client.get(url, params=params, headers={"Cookie": session})
    return got.status_code, got.text


async def test_a_printed_record_carries_a_code_that_the_verify_page_checks(
    client: Client, store: EventStore, database_url: str
) -> None:
    await caught_up(client, store, database_url)
    coordinator = await signed_in(client, database_url, "coordinator", None)
    status, text = await page(client, coordinator, "/partners/nrc")
    assert status == 200
    assert 'id="attest-link"' in text and 'id="attestation"' not in text
    status, text = await page(client, coordinator, "/partners/nrc", attest="1")
    assert status == 200, text
    [code] = re.findall(r'id="attestation" data-code="([A-Z2-7-]+)"', text)
    assert "<svg" in text  # the QR code, inline
    [link] = re.findall(r"(https://testserver\.local/verify\?note=[A-Za-z0-9_-]+)", text)

    # the code, typed in any case without dashes
    status, text = await page(client, coordinator, "/verify", code=code.lower().replace("-", ""))
    assert status == 200, text
    assert 'data-holds="true"' in text
    assert f"<code>{code}</code>" in text

    # the QR code's link: the signed note itself
    note = parse_qs(urlsplit(link).query)["note"][0]
    status, text = await page(client, coordinator, "/verify", note=note)
    assert status == 200 and 'data-holds="true"' in text

    # the same statement with another figure digest: the signature no longer holds
    statement = parse(note)
    forged = statement.note.replace(statement.statement.rows_sha256, "0" * 64)
    status, text = await page(client, coordinator, "/verify", note=qr_payload(forged))
    assert status == 200
    assert 'data-holds="false"' in text
    assert re.search(r'data-check="signature" data-ok="false"', text)

    # the API's attestation for the same record is checked the same way
    api = await client.get(
        "/v1/reports/partners/nrc",
        params={"attest": "true", "on": ON},
        headers={"Authorization": "Bearer " + await token(database_url)},
    )
    pasted = api.json()["attestation"]["note"]
    status, text = await page(client, coordinator, "/verify", note=pasted)
    assert status == 200 and 'data-holds="true"' in text, html.unescape(text)[-2000:]


async def token(database_url: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        return await issue(
            conn, name=f"test-api-auditor-{uuid.uuid4().hex[:8]}", role="auditor", partner_id=None
        )
    finally:
        await conn.close()


async def test_the_verify_page_refuses_what_is_not_an_attestation_and_hides_others_records(
    client: Client, store: EventStore, database_url: str
) -> None:
    await caught_up(client, store, database_url)
    coordinator = await signed_in(client, database_url, "coordinator", None)
    _, text = await page(client, coordinator, "/partners/nrc", attest="1")
    [code] = re.findall(r'id="attestation" data-code="([A-Z2-7-]+)"', text)
    status, text = await page(client, coordinator, "/verify", note="not a statement at all")
    assert status == 400 and 'id="verify-error"' in text
    status, _ = await page(client, coordinator, "/verify", code="AAAA-AAAA-AAAA-AAAA")
    assert status == 404
    other = await signed_in(client, database_url, "partner", "ayandeh")
    status, _ = await page(client, other, "/verify", code=code)
    assert status == 404
    own = await signed_in(client, database_url, "partner", "nrc")
    status, text = await page(client, own, "/verify", code=code)
    assert status == 200 and 'data-holds="true"' in text
