"""What a coordinator meets first, at a desk and on a phone, in Persian and English:
no page runs past the screen, no text is too small to read, months are typed in any
digits, and the overview opens on a month that is over."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser

from schemas.events import EVENT_TYPES
from server.projections.commitments import today_in_tehran
from server.projections.periods import format_month, month_key
from server.web.labels import LABELS
from tests.conftest import ROOT
from tests.web.conftest import Site, Visit
from tests.web.test_pages import pages

DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SMALLEST_TEXT = 11.0

# every visible piece of text with the size it is drawn at (an SVG's text scaled with
# its viewBox), and every filter field that sticks out of its form
_MEASURE_JS = """
(smallest) => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest('title, script, datalist, option')) continue;
    if (el.getClientRects().length === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden') continue;
    let size = parseFloat(style.fontSize);
    const svg = el.closest('svg');
    if (svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width) {
      size *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    }
    if (size < smallest) small.push([size.toFixed(1), node.textContent.trim().slice(0, 40)]);
  }
  const outside = [];
  for (const form of document.querySelectorAll('form.filters')) {
    const box = form.getBoundingClientRect();
    for (const field of form.querySelectorAll('select, input:not([type=hidden]), button')) {
      const r = field.getBoundingClientRect();
      if (r.width && (r.left < box.left - 0.5 || r.right > box.right + 0.5))
        outside.push(field.id || field.outerHTML.slice(0, 60));
    }
  }
  // for the message when the page is too wide: what sticks out
  const wide = Array.from(document.querySelectorAll('body *'))
    .filter(el => !el.parentElement.closest('.scroll'))
    .filter(el => { const r = el.getBoundingClientRect();
                    return r.width && (r.left < -0.5 || r.right > window.innerWidth + 0.5); })
    .slice(0, 5).map(el => el.outerHTML.slice(0, 80));
  const spilling = Array.from(document.querySelectorAll('body *'))
    .filter(el => !el.closest('.scroll, pre'))
    .filter(el => el.clientWidth && el.scrollWidth > el.clientWidth + 1)
    .slice(0, 5).map(el => el.outerHTML.slice(0, 120));
  return {
    wide, spilling,
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
    small, outside,
  };
}
"""


@pytest.fixture(params=[("desk", DESK), ("phone", PHONE)], ids=["desk", "phone"])
async def sized(request: Any, browser: Browser, site: Site) -> AsyncIterator[tuple[str, Visit]]:
    name, viewport = request.param
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    try:
        yield name, Visit(context, page, site)
    finally:
        await context.close()


async def test_no_page_runs_past_the_screen_or_draws_text_under_11_px(
    sized: tuple[str, Visit],
) -> None:
    width, visit = sized
    await visit.sign_in("demo-coordinator")
    paths = await pages(visit.site)
    paths["overview-this-month"] = "/?month=" + format_month(await _current(visit, "gregorian"))
    for lang in ("fa", "en"):
        await visit.language(lang)
        for name, path in paths.items():
            if name == "overview-this-month" and lang == "fa":
                path = "/?month=" + format_month(await _current(visit, "jalali"))
            response = await visit.open(path)
            assert response.status == 200, f"{path}: {response.status}"
            await visit.page.evaluate("document.fonts.ready")
            await visit.screenshot(f"{lang}-{width}-{name}")
            found = await visit.page.evaluate(_MEASURE_JS, SMALLEST_TEXT)
            where = f"{lang} {width} {path}"
            assert found["scrollWidth"] <= found["innerWidth"], f"{where} overflows: {found}"
            assert found["small"] == [], f"{where}: text under {SMALLEST_TEXT} px"
            assert found["outside"] == [], f"{where}: fields outside their form"


async def _current(visit: Visit, calendar: str) -> int:
    """This month in Tehran, in `calendar`, as the server sees it."""
    return month_key(today_in_tehran(), "jalali" if calendar == "jalali" else "gregorian")


async def _latest_complete_month_with_data(site: Site, calendar: str, current: int) -> int:
    rows = (await site.api(f"/v1/reports/deliveries?group_by=month&calendar={calendar}"))["rows"]
    complete = current - 1 if current % 100 != 1 else current - 89
    with_data = [int(r["month"].replace("-", "")) for r in rows if r["total"]]
    return max((m for m in with_data if m <= complete), default=complete)


async def test_the_overview_opens_on_the_last_complete_month_and_shows_this_one_so_far(
    visit: Visit,
) -> None:
    await visit.sign_in("demo-coordinator")
    for lang, calendar in (("fa", "jalali"), ("en", "gregorian")):
        await visit.language(lang)
        await visit.open("/")
        current = await _current(visit, calendar)
        expected = await _latest_complete_month_with_data(visit.site, calendar, current)
        shown = visit.page.locator("#shown-month")
        assert await shown.get_attribute("data-month") == format_month(expected)
        # the page says why it shows that month, and the month under way is one click away
        assert await shown.inner_text()
        so_far = visit.page.locator("#so-far")
        assert await so_far.get_attribute("data-month") == format_month(current)
        await so_far.get_by_role("link").click()
        await visit.page.wait_for_url(f"**/?month={format_month(current)}")
        word = "تا امروز" if lang == "fa" else "so far"
        assert word in await visit.page.locator("h1").inner_text()
        assert await visit.page.locator("#in-progress").is_visible()
        assert await visit.page.locator("#so-far").count() == 0


async def test_months_are_typed_in_persian_arabic_indic_or_latin_digits(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    site = visit.site
    await visit.language("fa")
    await visit.open("/who-what-where")
    # the browser's own check (the field's pattern) lets Persian and Arabic-Indic digits by
    await visit.page.get_by_label("از ماه").fill("۱۴۰۵-۰۲")
    await visit.page.get_by_label("تا ماه").fill("١٤٠٥/٧")
    valid = await visit.page.locator("form.filters").evaluate("f => f.checkValidity()")
    assert valid is True
    await visit.page.locator("form.filters button[type=submit]").click()
    await visit.page.wait_for_url(re.compile(r".*from=.*"))
    expected = (
        await site.api("/v1/reports/who-what-where?calendar=jalali&from=1405-02&to=1405-07")
    )["rows"]
    assert expected
    rows = await visit.page.locator("#www tbody tr[data-row]").evaluate_all(
        "rs => rs.map(r => [r.dataset.row, Number(r.querySelector('[data-total]').dataset.total)])"
    )
    assert dict(rows) == {
        f"{r['partner_id']}/{r['sector']}/{r['site_id']}": r["total"] for r in expected
    }
    # the fields show the months as read, in Persian digits
    assert await visit.page.get_by_label("از ماه").input_value() == "۱۴۰۵-۰۲"
    assert await visit.page.get_by_label("تا ماه").input_value() == "۱۴۰۵-۰۷"
    # a month picker: the list offers months by name
    choices = await visit.page.locator("datalist#month-choices option").evaluate_all(
        "os => os.map(o => [o.value, o.label])"
    )
    assert ["۱۴۰۵-۰۷", "مهر ۱۴۰۵"] in choices

    # in the address too, on every page with months, in either language
    for lang, path, heading in (
        ("fa", "/?month=۱۴۰۵-۰۸", "آبان ۱۴۰۵"),
        ("fa", "/?month=١٤٠٥-٠٨", "آبان ۱۴۰۵"),
        ("en", "/?month=۲۰۲۶-۱۰", "October 2026"),
    ):
        await visit.language(lang)
        response = await visit.open(path)
        assert response.status == 200, path
        assert heading in await visit.page.locator("h1").inner_text()
    await visit.language("fa")
    response = await visit.open("/partners/nrc?from=۱۴۰۵/۰۱&to=۱۴۰۵-۰۸")
    assert response.status == 200
    assert await visit.page.get_by_label("از ماه").input_value() == "۱۴۰۵-۰۱"


async def test_a_month_that_cannot_be_read_is_explained_in_the_readers_language(
    visit: Visit,
) -> None:
    await visit.sign_in("demo-coordinator")
    await visit.language("fa")
    response = await visit.open("/?month=۱۴۰۵-۱۳")
    assert response.status == 400
    alert = await visit.page.locator("[role=alert]").inner_text()
    assert "سال-ماه" in alert and not re.search("[A-Za-z]", alert), alert
    # the server's English words wait behind a disclosure
    assert not await visit.page.locator("details.detail p").is_visible()


async def test_the_persian_pages_speak_persian_and_isolate_what_people_wrote(
    visit: Visit,
) -> None:
    await visit.sign_in("demo-auditor")
    await visit.language("fa")
    await visit.open("/log")
    log = await visit.page.locator("#log tbody").inner_text()
    raw = [name for name in EVENT_TYPES if name in log]
    assert raw == [], f"event types shown raw: {raw}"
    assert "UTC" not in log
    assert "به وقت تهران" in await visit.page.locator("#log thead").inner_text()
    # roles in words, not their codes
    assert "(coordinator)" not in log and "(auditor)" not in log
    # the type filter names types in Persian and sends the contract's name
    option = visit.page.locator("#f-type option[value=CommitmentMade]")
    assert await option.inner_text() == "تصویب اقدام"

    await visit.open("/who-what-where")
    cells = visit.page.locator("#www tbody tr[data-row] td:first-child")
    assert await cells.count() > 0
    bare = await cells.evaluate_all(
        "tds => tds.filter(td => !td.querySelector('bdi[dir=auto]')).map(td => td.innerHTML)"
    )
    assert bare == [], bare

    # the Persian comma between a meeting's title and its date
    await visit.open("/commitments")
    link = await visit.page.locator("a.meeting-link").first.inner_text()
    assert "،" in link and "," not in link, link

    # a partner is named in the header by its name, not its id
    await visit.page.locator("form.signout button").click()
    await visit.sign_in("demo-nrc")
    record = await visit.site.api("/v1/reports/partners/nrc")
    who = await visit.page.locator(".top .who").inner_text()
    assert f"شریک: {record['partner']['name_fa']})" in who, who
    await visit.open("/partners/nrc")
    kind = await visit.page.locator(".facts dd").first.inner_text()
    assert "_" not in kind and kind.strip(), kind


async def test_the_glossary_is_the_dashboards_words(visit: Visit) -> None:
    """docs/glossary.md names each term with its label key; the pages use exactly it."""
    text = (ROOT / "docs" / "glossary.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|", text, re.MULTILINE)
    assert len(rows) >= 10
    for key, fa, en in rows:
        assert LABELS[key] == (fa.strip(), en.strip()), key
    # "تعهد" once meant four things; no label uses it now
    assert [k for k, (fa, _) in LABELS.items() if "تعهد" in fa] == []
    await visit.sign_in("demo-coordinator")
    await visit.open("/pledges")
    assert await visit.page.locator("h1").inner_text() == LABELS["nav_pledges"][0]


async def form_pages(site: Site) -> dict[str, dict[str, str]]:
    """Every form page, by who opens it (the name its screenshot gets -> path)."""
    commitments = (await site.api("/v1/reports/commitments?status=open"))["rows"]
    mine = next(c["commitment_id"] for c in commitments if c["owner_partner_id"] == "nrc")
    return {
        "demo-nrc": {
            "forms": "/forms",
            "form-delivery": "/forms/delivery",
            "form-delivery-cells": "/forms/delivery?shape=cells",
            "form-pledge": "/forms/pledge",
            "form-disbursement": "/forms/disbursement",
            "form-challenge": "/forms/challenge",
            "form-commitment": f"/forms/commitments/{mine}",
            "upload": "/upload",
        },
        "demo-coordinator": {
            "forms-coordinator": "/forms",
            "form-meeting": "/forms/meeting",
            "form-periods": "/forms/periods",
            "form-commitment-coordinator": f"/forms/commitments/{mine}",
        },
    }


async def test_no_form_runs_past_the_screen_or_draws_text_under_11_px(
    sized: tuple[str, Visit],
) -> None:
    width, visit = sized
    for who, paths in (await form_pages(visit.site)).items():
        await visit.sign_in(who)
        # a delivery of nrc's own, to correct or retract
        await visit.open("/forms")
        edit = visit.page.locator("#own-deliveries a[href^='/forms/deliveries/']")
        if await edit.count():
            paths = {**paths, "form-delivery-edit": str(await edit.first.get_attribute("href"))}
        for lang in ("fa", "en"):
            await visit.language(lang)
            for name, path in paths.items():
                response = await visit.open(path)
                assert response.status == 200, f"{path}: {response.status}"
                await visit.page.evaluate("document.fonts.ready")
                await visit.screenshot(f"{lang}-{width}-{name}")
                found = await visit.page.evaluate(_MEASURE_JS, SMALLEST_TEXT)
                where = f"{lang} {width} {path}"
                assert found["scrollWidth"] <= found["innerWidth"], f"{where} overflows: {found}"
                assert found["small"] == [], f"{where}: text under {SMALLEST_TEXT} px"
                assert found["outside"] == [], f"{where}: fields outside their form: {found}"
        await visit.page.locator("form.signout button").click()
    assert visit.console_errors == [], visit.console_errors
