"""A coordinator opens every page in Persian and in English: each page is right (lang,
dir, labels, headings, contrast), says what position it reflects, links to that
position's checkpoint, fetches nothing from elsewhere, and is photographed."""

from __future__ import annotations

import re
import uuid

import httpx

from tests.web.a11y import check_page
from tests.web.conftest import Site, Visit

PERSIAN_DIGITS = re.compile("[۰-۹]")
LATIN_DIGITS = re.compile("[0-9]")


async def pages(site: Site) -> dict[str, str]:
    """Every page of the dashboard, by the name its screenshot gets."""
    commitments = (await site.api("/v1/reports/commitments"))["rows"]
    meeting = next(c["meeting_id"] for c in commitments if c["meeting_id"])
    return {
        "overview": "/",
        "who-what-where": "/who-what-where",
        "progress": "/progress",
        "gaps": "/gaps",
        "trends": "/trends",
        "pledges": "/pledges",
        "commitments": "/commitments",
        "partners": "/partners",
        "partner-nrc": "/partners/nrc",
        "meeting": f"/meetings/{meeting}",
        "log": "/log",
        "receipt": "/log/5",
        "audit": "/audit",
    }


async def test_a_coordinator_opens_every_page_in_both_languages(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    # Persian first: the default for a new browser
    assert await visit.page.locator("html").get_attribute("lang") == "fa"
    for lang in ("fa", "en"):
        await visit.language(lang)
        for name, path in (await pages(visit.site)).items():
            response = await visit.open(path)
            assert response.status == 200, f"{path}: {response.status}"
            assert response.headers["cache-control"] == "no-store"
            policy = response.headers["content-security-policy"]
            assert "default-src 'self'" in policy and "script-src 'self'" in policy
            await check_page(visit.page, lang)
            as_of = visit.page.locator(".as-of a")
            position = await visit.page.locator(".as-of").get_attribute("data-as-of")
            assert position is not None and int(position) > 0
            assert await as_of.get_attribute("href") == f"/audit?position={position}#position"
            shown = await as_of.inner_text()
            if lang == "fa":
                assert PERSIAN_DIGITS.search(shown) and not LATIN_DIGITS.search(shown), shown
            else:
                assert shown.replace(",", "") == position
            await visit.screenshot(f"{lang}-{name}")
    assert visit.outside() == [], f"requests left the server: {visit.outside()}"
    # broken 403s show as console errors too, but this tour only visits allowed pages
    assert visit.console_errors == [], visit.console_errors


async def test_the_language_chosen_is_remembered(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    await visit.language("en")
    await visit.open("/pledges")
    assert await visit.page.locator("h1").inner_text() == "Pledges"
    cookies = {c["name"]: c for c in await visit.context.cookies()}
    assert cookies["hamkari_lang"]["value"] == "en"
    # a new sign-in in the same browser keeps it
    await visit.page.locator("form.signout button").click()
    await visit.sign_in("demo-coordinator")
    assert await visit.page.locator("html").get_attribute("dir") == "ltr"
    await visit.language("fa")
    await visit.open("/pledges")
    assert await visit.page.locator("h1").inner_text() == "وعده‌های کمک"
    # months are in the page's calendar: switching drops them and keeps the other filters
    await visit.open("/who-what-where?sector=education&from=1405-02&to=1405-07")
    await visit.language("en")
    assert visit.page.url == visit.site.url + "/who-what-where?sector=education"
    assert await visit.page.get_by_label("Sector").input_value() == "education"


async def test_the_as_of_link_leads_to_the_checkpoint_covering_that_position(
    visit: Visit,
) -> None:
    await visit.sign_in("demo-coordinator")
    await visit.language("en")
    position = int(await visit.page.locator(".as-of").get_attribute("data-as-of") or 0)
    await visit.page.locator(".as-of a").click()
    await visit.page.wait_for_url(re.compile(r".*/audit\?position=\d+#position$"))
    covering = visit.page.locator("#covering")
    size = int(await covering.get_attribute("data-size") or 0)
    assert size >= position
    checkpoints = await visit.site.api(f"/v1/audit/checkpoints?after={position - 1}&limit=1")
    assert checkpoints["checkpoints"][0]["size"] == size
    # the page verified the latest checkpoint as it was drawn
    checks = visit.page.locator("#checks li")
    assert await checks.count() >= 1
    assert set(await checks.evaluate_all("els => els.map(e => e.dataset.ok)")) == {"true"}


async def test_static_assets_are_served_here_with_long_cache_headers(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    hrefs = await visit.page.locator("link[href], script[src]").evaluate_all(
        "els => els.map(e => e.getAttribute('href') || e.getAttribute('src'))"
    )
    assert len(hrefs) == 4
    for href in hrefs:
        assert href.startswith("/static/") and "?v=" in href
        response = await visit.context.request.get(visit.site.url + href)
        assert response.status == 200
        cache = response.headers["cache-control"]
        assert "max-age=31536000" in cache and "immutable" in cache, cache
    font = await visit.context.request.get(visit.site.url + "/static/fonts/Vazirmatn-Regular.woff2")
    assert font.status == 200 and (await font.body())[:4] == b"wOF2"
    licence = await visit.context.request.get(visit.site.url + "/static/fonts/Vazirmatn-OFL.txt")
    assert "SIL Open Font License" in await licence.text()
    # the font is the one drawn: Persian text is set in Vazirmatn
    loaded = await visit.page.evaluate(
        "async () => { await document.fonts.ready;"
        " return document.fonts.check('16px Vazirmatn', 'همکاری'); }"
    )
    assert loaded is True


async def test_a_partner_record_prints_as_a_clean_a4_report(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    await visit.open("/partners/nrc")
    # the Print button is the dashboard's one script: shown once it has run
    assert await visit.page.get_by_role("button", name="چاپ").is_visible()
    await visit.page.emulate_media(media="print")
    for hidden in ("header.top", "nav.sections", "form.filters"):
        assert not await visit.page.locator(hidden).is_visible(), hidden
    for kept in ("h1", ".as-of", "#record-deliveries"):
        assert await visit.page.locator(kept).is_visible(), kept
    pdf = await visit.page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    path = visit.screenshot_path("fa-partner-nrc-print.pdf")
    path.write_bytes(pdf)
    # A4 portrait: 210 x 297 mm, 595 x 842 points
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert boxes
    for width, height in boxes:
        assert abs(float(width) - 595.3) < 2 and abs(float(height) - 841.9) < 2


async def test_the_audit_page_verifies_the_latest_checkpoint_against_the_one_before(
    visit: Visit,
) -> None:
    site = visit.site
    async with httpx.AsyncClient(base_url=site.url, timeout=30) as client:
        posted = await client.post(
            "/v1/events",
            headers=site.bearer("demo-coordinator"),
            json={
                "type": "ChallengeReported",
                "data": {
                    "challenge_id": str(uuid.uuid4()),
                    "partner_id": "ayandeh",
                    "description": "Winter heating at the care camp",
                },
            },
        )
        assert posted.status_code == 201, posted.text
        signed = await client.post("/v1/audit/checkpoints", headers=site.bearer("demo-auditor"))
        assert signed.status_code in (200, 201), signed.text
        latest = signed.json()
    await visit.sign_in("demo-auditor")
    await visit.language("en")
    await visit.open("/audit")
    assert await visit.page.locator("#latest").get_attribute("data-size") == str(latest["size"])
    checks = visit.page.locator("#checks li")
    assert await checks.count() == 2
    assert await checks.evaluate_all("els => els.map(e => e.dataset.ok)") == ["true", "true"]
    assert "consistently extends" in await checks.nth(1).inner_text()
