"""Black-box tests against a running `hamkari serve`: what only a real HTTP server shows
(streamed responses, the process's own wiring)."""

from __future__ import annotations

import asyncio
import threading
import time

import asyncpg
import httpx
import msgspec

from server.auth.tokens import issue
from tests.builders import partner_registered
from tests.conftest import LiveServer, hamkari


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


async def test_a_revoked_token_ends_its_live_feed_within_five_seconds(
    live_server: LiveServer, database_url: str, cli_env: dict[str, str]
) -> None:
    """API.md "Users and roles": `hamkari token revoke` ends the feed the token had open,
    while events go on being appended (without the fix the feed delivered them all)."""
    tokens = await tokens_for(database_url)
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    delivered: list[int] = []
    first = threading.Event()
    ended: list[float] = []
    errors: list[BaseException] = []

    def read() -> None:
        headers = {"Authorization": f"Bearer {tokens['auditor']}", "Accept": "text/event-stream"}
        try:
            with httpx.stream(
                "GET", f"{live_server.url}/v1/events", headers=headers, timeout=30
            ) as response:
                assert response.status_code == 200
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        delivered.append(msgspec.json.decode(line[5:].strip())["position"])
                        first.set()
            ended.append(time.monotonic())
        except BaseException as exc:  # surfaced in the assertion below
            errors.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin) as client:

        async def register(partner: str) -> None:
            response = await client.post(
                "/v1/events",
                json={"type": "PartnerRegistered", "data": partner_registered(partner)},
            )
            assert response.status_code == 201, response.text

        await register("p1")
        assert await asyncio.to_thread(first.wait, 20), errors
        revoked = await asyncio.to_thread(hamkari, "token", "revoke", "live-auditor", env=cli_env)
        assert revoked.returncode == 0, revoked.stderr
        revoked_at = time.monotonic()
        # the log goes on growing; the feed must not
        for n in range(2, 20):
            if ended or time.monotonic() - revoked_at > 8:
                break
            await register(f"p{n}")
            await asyncio.sleep(0.4)
    await asyncio.to_thread(reader.join, 10)
    assert not errors, errors
    assert ended, f"the feed was still open 8 s after the revoke; it delivered {delivered}"
    assert ended[0] - revoked_at < 5, ended[0] - revoked_at
    assert delivered[0] == 1
