"""The dashboard's cookies carry Secure unless the operator turns it off for a plain-HTTP
office network (HAMKARI_WEB_SECURE_COOKIES=off)."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.config import Settings


@pytest.mark.parametrize("secure", [True, False])
async def test_cookies_are_secure_unless_turned_off(
    database_url: str, tmp_path: Path, secure: bool
) -> None:
    settings = Settings(
        database_url=database_url, data_dir=str(tmp_path), web_secure_cookies=secure
    )
    async with AsyncTestClient(create_app(settings)) as client:
        response = await client.get("/sign-in")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("hamkari_csrf=")
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert ("Secure" in cookie) is secure
