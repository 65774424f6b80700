"""Black-box tests against a running `hamkari serve`: what only a real HTTP server shows
(streamed responses, the process's own wiring)."""

from __future__ import annotations

import asyncio
import threading

import asyncpg
import httpx
import msgspec

from server.auth.tokens import issue
from tests.builders import partner_registered
from tests.conftest import LiveServer


async def tokens_for(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        return {
            "admin": await issue(conn, name="live-admin", role="admin"),
            "auditor": await issue(conn, name="live-auditor", role="auditor"),
        }
    finally:
        await conn.close()


async def test_the_live_feed_resumes_from_last_event_id(
    live_server: LiveServer, database_url: str
) -> None:
    tokens = await tokens_for(database_url)
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin) as client:
        for partner in ("p1", "p2", "p3"):
            response = await client.post(
                "/v1/events",
                json={"type": "PartnerRegistered", "data": partner_registered(partner)},
            )
            assert response.status_code == 201, response.text
    seen: list[int] = []

    def read() -> None:
        headers = {
            "Authorization": f"Bearer {tokens['auditor']}",
            "Accept": "text/event-stream",
            "Last-Event-ID": "2",
        }
        with httpx.stream(
            "GET", f"{live_server.url}/v1/events", headers=headers, timeout=20
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream"), (
                response.headers
            )
            for line in response.iter_lines():
                if line.startswith("data:"):
                    seen.append(msgspec.json.decode(line[5:].strip())["position"])
                    if len(seen) == 3:
                        return

    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            read()
        except BaseException as exc:  # surfaced in the assertion below
            errors.append(exc)

    reader = threading.Thread(target=guarded, daemon=True)
    reader.start()
    await asyncio.sleep(0.5)
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin) as client:
        for partner in ("p4", "p5"):
            response = await client.post(
                "/v1/events",
                json={"type": "PartnerRegistered", "data": partner_registered(partner)},
            )
            assert response.status_code == 201, response.text
    await asyncio.to_thread(reader.join, 20)
    assert not errors, errors
    assert seen == [3, 4, 5]
