"""The dashboard in a real browser: one `hamkari serve` with the demo record for all of tests/web,
Debian's Chromium driven by Playwright, and a signed-in page per role.

Chromium is /usr/bin/chromium (`make install` puts it there); never a downloaded build.
If it cannot start, the tests fail: there is no skip."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import ROOT, LiveServer, cloned_database, load_demo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "var" / "artifacts" / "screenshots"


class Site:
    """The running server, its demo tokens, and the JSON API as a coordinator sees it."""

    def __init__(self, server: LiveServer, tokens: dict[str, str]) -> None:
        self.server = server
        self.url = server.url
        self.tokens = tokens

    async def api(self, path: str, who: str = "demo-coordinator") -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            response = await client.get(path, headers=self.bearer(who))
        assert response.status_code == 200, response.text
        return response.json()

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(scope="package")
async def web_database(pg_admin_dsn: str, template_database: str) -> AsyncIterator[str]:
    async with cloned_database(pg_admin_dsn, template_database, "w") as dsn:
        yield dsn


@pytest.fixture(scope="package")
def site(web_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("web")
    env = {**os.environ, "DATABASE_URL": web_database, "HAMKARI_DATA_DIR": str(data_dir)}
    tokens = load_demo(env)
    server = LiveServer(env)
    server.start()
    try:
        running = Site(server, tokens)
        # every report reflects the whole demo record before a page is opened
        log = httpx.get(
            f"{server.url}/v1/events?limit=10000", headers=running.bearer("demo-auditor")
        )
        last = log.json()["events"][-1]["position"]
        waited = httpx.get(
            f"{server.url}/v1/reports/partners/nrc?min_position={last}",
            headers=running.bearer("demo-coordinator"),
            timeout=30,
        )
        assert waited.status_code == 200, waited.text
        yield running
    finally:
        server.stop()


@pytest.fixture(scope="package")
def chromium() -> str:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make install`"
    return CHROMIUM


@pytest.fixture(scope="package")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


class Visit:
    """A browser context for one person: every request it made is kept, so a test can
    check that nothing left the server."""

    def __init__(self, context: BrowserContext, page: Page, site: Site) -> None:
        self.context = context
        self.page = page
        self.site = site
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        context.on("request", lambda request: self.requests.append(request.url))
        page.on(
            "console",
            lambda message: (
                self.console_errors.append(message.text) if message.type == "error" else None
            ),
        )

    async def open(self, path: str) -> Any:
        response = await self.page.goto(self.site.url + path)
        assert response is not None
        return response

    async def sign_in(self, token_name: str) -> None:
        await self.open("/sign-in")
        await (
            self.page.get_by_label("Token")
            .or_(self.page.get_by_label("توکن"))
            .fill(self.site.tokens[token_name])
        )
        await self.page.locator("form.sign-in button[type=submit]").click()
        await self.page.wait_for_url(self.site.url + "/")

    async def language(self, lang: str) -> None:
        current = await self.page.locator("html").get_attribute("lang")
        if current != lang:
            await self.page.locator("form.lang button").click()
            await self.page.wait_for_function(
                f"document.documentElement.lang === {json.dumps(lang)}"
            )

    def screenshot_path(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS / name

    async def screenshot(self, name: str) -> Path:
        path = self.screenshot_path(f"{name}.png")
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    def outside(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.site.url + "/")]


@pytest.fixture
async def visit(browser: Browser, site: Site) -> AsyncIterator[Visit]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        yield Visit(context, page, site)
    finally:
        await context.close()
