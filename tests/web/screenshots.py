"""`make screenshots`: a PNG of every dashboard page in Persian and in English, at desk
width, from the demo record, into docs/dashboard/, so a reader sees the dashboard
without running it.

Run by pytest (`make screenshots`) for its fixtures: the same database, demo record,
server and Debian Chromium as tests/web. The file is not named test_*, so the suite
does not collect it; given by name, pytest runs it. Each picture is the page's top,
at most two screens high (1366 × 1800), to keep the files small."""

from __future__ import annotations

from playwright.async_api import Browser

from tests.conftest import ROOT
from tests.web.conftest import Site, Visit
from tests.web.test_layout import form_pages
from tests.web.test_pages import pages

DOCS = ROOT / "docs" / "dashboard"
DESK = {"width": 1366, "height": 900}
TALLEST = 2 * DESK["height"]


async def test_write_a_screenshot_of_every_page_in_both_languages(
    browser: Browser, site: Site
) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    written = []
    forms = await form_pages(site)
    for who in ("demo-coordinator", "demo-nrc"):
        context = await browser.new_context(viewport=DESK)
        visit = Visit(context, await context.new_page(), site)
        try:
            await visit.sign_in(who)
            paths = (
                {**await pages(site), "verify": "/verify"}
                if who == "demo-coordinator"
                else {"partner-own-overview": "/"}
            )
            paths.update(forms[who])
            for lang in ("fa", "en"):
                await visit.language(lang)
                for name, path in paths.items():
                    response = await visit.open(path)
                    assert response.status == 200, f"{path}: {response.status}"
                    await visit.page.evaluate("document.fonts.ready")
                    height = await visit.page.evaluate("document.documentElement.scrollHeight")
                    target = DOCS / f"{lang}-{name}.png"
                    await visit.page.screenshot(
                        path=str(target),
                        full_page=True,
                        clip={
                            "x": 0,
                            "y": 0,
                            "width": DESK["width"],
                            "height": min(height, TALLEST),
                        },
                    )
                    written.append(target)
        finally:
            await context.close()
    assert len(written) >= 2 * (15 + len(forms["demo-nrc"]) + len(forms["demo-coordinator"]))
