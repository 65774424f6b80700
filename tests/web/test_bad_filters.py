"""The dashboard's filters and positions are checked before they reach the database: a
NUL or a position past 2^53-1 is a 400 page, never a 500. Every GET page is swept,
from the app's route table, with a NUL in each of its parameters."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth.tokens import issue
from server.config import Settings
from server.web.views import FILTERS

Client = AsyncTestClient[Litestar]


def pages(app: Litestar) -> list[tuple[str, HTTPRouteHandler]]:
    """Every GET page of the dashboard: what the OpenAPI document leaves out but itself
    and the static files."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if (
                isinstance(handler, HTTPRouteHandler)
                and "GET" in handler.http_methods
                and not handler.resolve_include_in_schema()
                and not route.path.startswith(("/static", "/schema"))
            ):
                found.append((route.path, handler))
    return found


@pytest.fixture
async def signed_in(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Client, Litestar]]:
    settings = Settings(database_url=database_url, data_dir=str(tmp_path), web_secure_cookies=False)
    conn = await asyncpg.connect(database_url)
    try:
        token = await issue(conn, name="filters", role="coordinator", partner_id=None)
    finally:
        await conn.close()
    app = create_app(settings)
    async with AsyncTestClient(app) as client:
        page = await client.get("/sign-in")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        response = await client.post(
            "/sign-in",
            data={"token": token, "_csrf_token": csrf.group(1)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        yield client, app


def hostile_urls(app: Litestar) -> list[tuple[str, int]]:
    """(url, status): 400, but 404 where the router takes the path for no page at all
    (a `{meeting_id:uuid}` that is not a UUID)."""
    urls = []
    for path, handler in pages(app):
        parameters: dict[str, Any] = handler.parsed_fn_signature.parameters
        names = [n for n in parameters if n not in ("self", "request")]
        filled = re.sub(r"\{(\w+):(\w+)\}", lambda m: "1" if m[2] == "int" else "nrc", path)
        for name in names:
            if "{" + name + ":" in path:
                kind = re.search(r"\{" + name + r":(\w+)\}", path)
                assert kind is not None
                value = "9223372036854775808" if kind[1] == "int" else "%00"
                status = 404 if kind[1] == "uuid" else 400
                urls.append((re.sub(r"\{" + name + r":\w+\}", value, path), status))
            else:
                urls.append((f"{filled}?{name}=%00", 400))
        if handler.opt.get("shareable_view"):
            urls += [(f"{filled}?{name}=%00", 400) for name in FILTERS]
    return urls


async def test_every_page_refuses_a_nul_or_a_huge_position_with_a_400_page(
    signed_in: tuple[Client, Litestar],
) -> None:
    client, app = signed_in
    urls = hostile_urls(app)
    for expected in ("/who-what-where?site=%00", "/log/9223372036854775808", "/log?stream=%00"):
        assert (expected, 400) in urls
    urls += [("/log?before=9223372036854775808", 400), ("/audit?position=9223372036854775808", 400)]
    for url, status in urls:
        response = await client.get(url)
        assert response.status_code == status, f"{url}: {response.status_code}"
        if status == 400:
            assert response.headers["content-type"].startswith("text/html"), url
