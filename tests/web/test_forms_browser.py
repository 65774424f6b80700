"""Writing without programming, in Chromium, in Persian and English: a partner reports a
delivery by form and finds it in the 3W page, a coordinator records a meeting with two
commitments and finds them on the commitments page, a partner uploads a spreadsheet
(errors shown in place, then the fixed file confirmed), and a double click appends once.
Each form is photographed in both languages, at a desk and on a phone."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import Page

from tests.waiting import until
from tests.web.conftest import Site, Visit

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


async def _last(site: Site) -> int:
    after = 0
    while True:
        found = (await site.api(f"/v1/events?limit=10000&after={after}", "demo-auditor"))["events"]
        if not found:
            return after
        after = found[-1]["position"]


async def www_total(visit: Visit, key: str) -> int:
    """The total of one 3W row (`partner/sector/site`), 0 when there is none."""
    await visit.open("/who-what-where")
    row = visit.page.locator(f'#www tr[data-row="{key}"] [data-total]')
    if await row.count() == 0:
        return 0
    return int(await row.get_attribute("data-total") or 0)


async def fill_delivery(page: Page, lang: str, activity: str, counts: dict[str, int]) -> None:
    await page.locator("#f-site_id").select_option("care-camp")
    await page.locator("#f-sector").select_option("health")
    await page.locator("#f-activity").fill(activity)
    if lang == "fa":
        await page.locator("#f-period_start").fill("۱۴۰۵/۰۱/۱۲")
        await page.locator("#f-period_end").fill("1405/01/20")
    else:
        await page.locator("#f-period_start").fill("2026-04-02")
        await page.locator("#f-period_end").fill("2026-04-09")
    for name, value in counts.items():
        typed = str(value).translate(PERSIAN) if lang == "fa" else str(value)
        await page.locator(f"#f-{name}").fill(typed)


async def test_a_partner_reports_a_delivery_by_form_and_sees_it_in_the_3w_page(
    visit: Visit,
) -> None:
    await visit.sign_in("demo-nrc")
    for lang in ("fa", "en"):
        await visit.language(lang)
        before = await www_total(visit, "nrc/health/care-camp")
        await visit.open("/forms")
        await visit.page.locator("#form-list a[href='/forms/delivery']").click()
        counts = {"women": 7, "men": 5, "girls": 11, "boys": 1300}
        await fill_delivery(visit.page, lang, f"Mobile clinic ({lang})", counts)
        # the total is shown as it is typed, in the page's digits
        shown = f"{sum(counts.values()):,}"
        if lang == "fa":
            shown = shown.replace(",", "٬").translate(PERSIAN)
        assert await visit.page.locator("output#total").inner_text() == shown
        await visit.screenshot(f"{lang}-form-delivery-filled")
        await visit.page.locator("#delivery-form button[type=submit]").click()
        await visit.page.locator("#done").wait_for()
        position = await visit.page.locator("#receipts tr[data-position]").get_attribute(
            "data-position"
        )
        assert position and int(position) > 0
        assert await visit.page.locator("#receipts [data-hash]").count() == 1
        await visit.screenshot(f"{lang}-form-done")
        await visit.page.locator("#next-links a[href^='/who-what-where']").click()

        wanted = before + sum(counts.values())

        async def moved(wanted: int = wanted) -> bool:
            return await www_total(visit, "nrc/health/care-camp") == wanted

        await until(moved, 30, what="the delivery in the 3W page")
    assert visit.console_errors == [], visit.console_errors
    assert visit.outside() == []


async def test_a_broken_rule_is_said_next_to_the_field_and_keeps_what_was_typed(
    visit: Visit,
) -> None:
    await visit.sign_in("demo-nrc")
    await visit.language("fa")
    await visit.open("/forms/delivery?shape=cells")
    await visit.page.locator("#f-site_id").select_option("care-camp")
    await visit.page.locator("#f-sector").select_option("health")
    await visit.page.locator("#f-activity").fill("Check-ups")
    await visit.page.locator("#f-period_start").fill("۱۴۹۹/۰۱/۰۱")
    await visit.page.locator("#f-period_end").fill("۱۴۹۹/۰۱/۰۲")
    await visit.page.locator("[id='f-cell-f-18-59']").fill("۱۲")
    await visit.page.locator("[id='f-cell-m-0-4']").fill("3")
    assert await visit.page.locator("output[data-sum-of=f]").inner_text() == "۱۲"
    assert await visit.page.locator("output#total").inner_text() == "۱۵"
    await visit.page.locator("#delivery-form button[type=submit]").click()
    error = visit.page.locator("[data-error-for=period_end]")
    await error.wait_for()
    assert await error.inner_text() == "دورهٔ خدمت نمی‌تواند در آینده باشد."
    assert await visit.page.locator("#f-period_start").input_value() == "۱۴۹۹/۰۱/۰۱"
    assert await visit.page.locator("[id='f-cell-f-18-59']").input_value() == "۱۲"
    assert await visit.page.locator("output#total").inner_text() == "۱۵"
    await visit.screenshot("fa-form-delivery-cells-refused")


async def test_double_clicking_submit_appends_once(visit: Visit) -> None:
    await visit.sign_in("demo-nrc")
    await visit.language("en")
    await visit.open("/forms/challenge")
    await visit.page.locator("#f-description").fill("The road to the camp is closed")
    before = await _last(visit.site)
    await visit.page.locator("form.entry button[type=submit]").dblclick()
    await visit.page.locator("#done").wait_for()
    assert await _last(visit.site) == before + 1


async def test_a_coordinator_records_a_meeting_with_two_commitments(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    for lang in ("fa", "en"):
        await visit.language(lang)
        await visit.open("/forms/meeting")
        page = visit.page
        form_id = await page.locator("input[name=form_id]").input_value()
        await page.locator("#f-held_on").fill("۱۴۰۵/۰۸/۰۱" if lang == "fa" else "2026-10-23")
        await page.locator("#f-title_fa").fill("جلسهٔ ماهانه")
        await page.locator("#f-title_en").fill(f"Monthly meeting ({lang})")
        await page.locator("#f-chair_partner_id").select_option("directorate")
        for pid in ("nrc", "ayandeh"):
            await page.locator(f"input[name=participants][value={pid}]").check()
        await page.locator("[id='f-presented-nrc']").fill("Classes are full")
        await page.locator("[id='f-c0-description_fa']").fill("فهرست کلاس‌ها را بفرستید")
        await page.locator("[id='f-c0-owner_partner_id']").select_option("nrc")
        await page.locator("[id='f-c0-due_on']").fill(
            "2026-12-01" if lang == "en" else "۱۴۰۵/۰۹/۱۰"
        )
        await page.locator("[id='f-c1-description_en']").fill("Open a second space")
        await page.locator("[id='f-c1-owner_partner_id']").select_option("ayandeh")
        await page.locator("[id='f-c1-due_on']").fill(
            "2026-12-15" if lang == "en" else "۱۴۰۵/۰۹/۲۴"
        )
        await visit.screenshot(f"{lang}-form-meeting-filled")
        await page.locator("#meeting-form button[value=send]").click()
        await page.locator("#done").wait_for()
        types = await page.locator("#receipts tr").evaluate_all(
            "rs => rs.map(r => r.dataset.type).filter(Boolean)"
        )
        assert types == ["MeetingHeld", "ReportPresented", "CommitmentMade", "CommitmentMade"]
        made = [str(uuid.uuid5(uuid.UUID(form_id), f"commitment/{row}")) for row in (0, 1)]

        async def listed(made: list[str] = made) -> bool:
            await visit.open("/commitments")
            return all([await visit.page.locator(f"#c-{c}").count() == 1 for c in made])

        await until(listed, 30, what="the meeting's commitments on the commitments page")
        await visit.screenshot(f"{lang}-commitments-after-meeting")


def _csv(rows: list[list[Any]]) -> bytes:
    header = "Site,Sector,Activity,Period start,Period end,women,men,girls,boys"
    lines = [header, *(",".join(str(c) for c in row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


async def _send(visit: Visit, body: bytes) -> None:
    await visit.open("/upload")
    await visit.page.locator("#f-type").select_option("ServiceDelivered")
    await visit.page.locator("#f-file").set_input_files(
        {"name": "nrc-april.csv", "mimeType": "text/csv", "buffer": body}
    )
    await visit.page.locator("#upload-form button[type=submit]").click()
    await visit.page.locator("#result").wait_for()


async def test_a_partner_uploads_a_spreadsheet_fixes_it_and_confirms(visit: Visit) -> None:
    await visit.sign_in("demo-nrc")
    for lang, activity in (("fa", "Shelter repair (fa)"), ("en", "Shelter repair (en)")):
        await visit.language(lang)
        key = "nrc/shelter/khalij-fars"
        before = await www_total(visit, key)
        good = [
            ["khalij-fars", "shelter", activity, "1405/01/12", "1405/01/20", 3, 4, 5, 6],
            ["khalij-fars", "shelter", activity + " B", "2026-04-02", "2026-04-09", 10, 0, 0, 1],
            ["khalij-fars", "shelter", activity + " C", "2026-04-02", "2026-04-09", 0, 2, 2, 2],
        ]
        bad = [list(good[0]), list(good[1]), list(good[2])]
        bad[1][3] = "1405/13/01"  # no 13th month
        bad[2][1] = "space"  # no such sector
        await _send(visit, _csv(bad))
        assert await visit.page.locator("#result").get_attribute("data-errors") == "2"
        assert await visit.page.locator("#preview td.bad[data-cell=D3]").count() == 1
        assert await visit.page.locator("#preview td.bad[data-cell=B4]").count() == 1
        assert await visit.page.locator("#confirm-form").count() == 0
        await visit.screenshot(f"{lang}-upload-errors")
        await _send(visit, _csv(good))
        assert await visit.page.locator("#result").get_attribute("data-new") == "3"
        await visit.screenshot(f"{lang}-upload-preview")
        await visit.page.locator("#confirm").click()
        await visit.page.locator("#done").wait_for()
        await visit.screenshot(f"{lang}-upload-done")
        sums = sum(sum(row[5:]) for row in good)

        async def moved(wanted: int = before + sums) -> bool:
            return await www_total(visit, "nrc/shelter/khalij-fars") == wanted

        await until(moved, 30, what="the file's sums in the 3W page")
        # the same file again changes nothing
        head_before = await _last(visit.site)
        await _send(visit, _csv(good))
        assert await visit.page.locator("#result").get_attribute("data-unchanged") == "3"
        assert await visit.page.locator("#nothing-new").is_visible()
        assert await _last(visit.site) == head_before
        assert await www_total(visit, key) == before + sums
