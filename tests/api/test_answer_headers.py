"""Headers every answer carries, whoever made it: `X-Content-Type-Options: nosniff` on
API answers, problems, pages and static files; `WWW-Authenticate: Bearer` (RFC 6750)
on every 401; one charset, never two, on text answers."""

from __future__ import annotations

import re

import asyncpg
import httpx

from server.auth.tokens import revoke
from tests.api.conftest import Api, bearer


def charset_once(response: httpx.Response) -> None:
    content_type = response.headers["content-type"]
    assert content_type.count("charset") == 1, content_type


async def test_text_answers_name_their_charset_once(api: Api) -> None:
    await api.setup_world()
    signed = await api.client.post("/v1/audit/checkpoints", headers=bearer(api.tokens["admin"]))
    assert signed.status_code in (200, 201), signed.text
    answers = [
        await api.client.get("/v1/audit/checkpoint"),
        await api.client.get("/v1/audit/public-key"),
        await api.client.get("/metrics"),
        await api.get("coordinator", "/v1/reports/deliveries?format=csv"),
        await api.get("coordinator", "/v1/reports/who-what-where?format=hxl"),
        await api.get("coordinator", "/v1/reports/partners/nrc?format=csv&min_position=4"),
    ]
    for response in answers:
        assert response.status_code == 200, (response.request.url, response.text)
        assert response.headers["content-type"].startswith("text/"), response.headers
        charset_once(response)


async def test_every_answer_says_nosniff(api: Api) -> None:
    answers = [
        await api.client.get("/health"),
        await api.get("auditor", "/v1/events"),  # JSON
        await api.client.get("/v1/events"),  # a problem from the auth middleware
        await api.get("nrc", "/v1/events"),  # a problem from a guard
        await api.client.get("/v1/no-such-route"),  # no route took it
        await api.client.delete("/v1/events"),  # 405
        await api.client.get("/v1/audit/public-key"),  # text
        await api.client.get("/static/app.css"),  # a static file
        await api.client.get("/static/no-such-file.css"),
        await api.client.get("/sign-in"),  # a page
        await api.client.get("/pledges", follow_redirects=False),  # a redirect to sign in
        await api.client.get("/schema/openapi.json"),
    ]
    for response in answers:
        assert response.headers.get("x-content-type-options") == "nosniff", (
            response.request.method,
            response.request.url,
            response.status_code,
            dict(response.headers),
        )


async def test_every_401_asks_for_a_bearer_token(api: Api, database_url: str) -> None:
    """RFC 6750 section 3: no credentials, a bare challenge; a token that is not (or no
    longer) valid, `error="invalid_token"`."""
    missing = [
        await api.client.get("/v1/events"),
        await api.client.get("/v1/events", headers={"Authorization": "Basic YWxhZGRpbjpv"}),
        await api.client.post("/v1/events", json={}),
    ]
    for response in missing:
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer", response.headers

    conn = await asyncpg.connect(database_url)
    try:
        await revoke(conn, "test-auditor")
    finally:
        await conn.close()
    invalid = [
        await api.client.get("/v1/events", headers=bearer("hmk_no-such-token")),
        await api.client.get("/v1/events", headers=bearer("not-even-the-format")),
        await api.get("auditor", "/v1/events"),  # revoked
        await api.get("auditor", "/v1/reports/pledges"),
        await api.post("auditor", {}),
    ]
    for response in invalid:
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"', (
            response.request.url,
            response.headers,
        )
    # the dashboard's sign-in form refuses the token with a page, as a 401 still
    page = await api.client.get("/sign-in")
    [csrf] = set(re.findall(r'name="_csrf_token" value="([^"]+)"', page.text))
    form = {"token": "hmk_no-such-token", "_csrf_token": csrf}
    # the cookie is Secure, and the test client speaks plain HTTP: sent by hand
    cookie = {"Cookie": f"hamkari_csrf={page.cookies['hamkari_csrf']}"}
    refused = await api.client.post("/sign-in", data=form, headers=cookie)
    assert refused.status_code == 401, refused.text
    assert refused.headers["www-authenticate"].startswith("Bearer")
