"""The figures on the pages are the figures of the JSON reports, in each language's
calendar; filters narrow them the same way; an overdue commitment leads to its meeting;
an event's receipt and proof agree with the log."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tests.web.conftest import Visit


async def cells(visit: Visit, selector: str, attribute: str) -> dict[str, str]:
    """`data-key`-like attribute of each row -> the text of a data attribute in it."""
    pairs = await visit.page.locator(selector).evaluate_all(
        f"rows => rows.map(r => [r.dataset.{attribute}, Object.assign({{}}, ...Array.from("
        "r.querySelectorAll('[data-this],[data-last],[data-total],[data-pledged],"
        "[data-disbursed]')).map(c => ({...c.dataset})))])"
    )
    return {key: values for key, values in pairs}


async def test_overview_figures_equal_the_json_reports_in_both_calendars(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    site = visit.site
    for lang, calendar, month, last in (
        ("en", "gregorian", "2026-10", "2026-09"),
        ("fa", "jalali", "1405-07", "1405-06"),
    ):
        await visit.language(lang)
        await visit.open(f"/?month={month}")

        async def report(group_by: str, m: str, calendar: str = calendar) -> list[dict[str, Any]]:
            query = f"group_by={group_by}&calendar={calendar}&from={m}&to={m}"
            rows: list[dict[str, Any]] = (await site.api(f"/v1/reports/deliveries?{query}"))["rows"]
            return rows

        this_total = (await report("", month))[0]["total"]
        last_total = (await report("", last))[0]["total"]
        assert this_total > 0
        shown = visit.page.locator("#totals [data-total]")
        assert await shown.evaluate_all("els => els.map(e => Number(e.dataset.total))") == [
            this_total,
            last_total,
        ]
        for table, group, column in (
            ("by-sector", "sector", "sector"),
            ("by-site", "site", "site_id"),
        ):
            rows = await cells(visit, f"#{table} tbody tr[data-key]", "key")
            expected_this = {r[column]: r["total"] for r in await report(group, month)}
            expected_last = {r[column]: r["total"] for r in await report(group, last)}
            assert {k: int(v["this"]) for k, v in rows.items() if int(v["this"])} == expected_this
            assert {k: int(v["last"]) for k, v in rows.items() if int(v["last"])} == expected_last

        pledges = await site.api("/v1/reports/pledges")
        committed = await cells(visit, "#money-totals tbody tr[data-currency]", "currency")
        assert {c: (v["pledged"], v["disbursed"]) for c, v in committed.items()} == {
            t["currency"]: (t["pledged"], t["disbursed"]) for t in pledges["totals"]
        }
        await money_months_equal_the_json_report(visit, calendar, month, last)
        open_rows = (await site.api("/v1/reports/commitments?status=open"))["rows"]
        overdue_rows = (await site.api("/v1/reports/commitments?status=overdue"))["rows"]
        assert await visit.page.locator("#open-count").get_attribute("data-value") == str(
            len(open_rows)
        )
        assert await visit.page.locator("#overdue-count").get_attribute("data-value") == str(
            len(overdue_rows)
        )
        assert overdue_rows, "the demo record has an overdue commitment"


async def money_months(visit: Visit) -> dict[tuple[str, str], dict[str, Decimal]]:
    """(status, currency) -> the overview's money of this month and last, as shown."""
    rows = await visit.page.locator(
        "#money-months tbody tr[data-currency], #money-months-apart tbody tr[data-currency]"
    ).evaluate_all(
        "rows => rows.map(r => [r.dataset.status, r.dataset.currency, Object.assign({},"
        " ...Array.from(r.querySelectorAll('td')).map(c => ({...c.dataset})))])"
    )
    return {
        (status, currency): {k: Decimal(v) for k, v in figures.items()}
        for status, currency, figures in rows
    }


async def money_months_equal_the_json_report(
    visit: Visit, calendar: str, month: str, last: str
) -> dict[tuple[str, str], dict[str, Decimal]]:
    """The overview's pledged and disbursed this month and last, per status and currency,
    are the pledges report's month rows (`view=months`) for those two months."""
    report = await visit.site.api(
        f"/v1/reports/pledges?view=months&calendar={calendar}&from={last}&to={month}"
    )
    expected: dict[tuple[str, str], dict[str, Decimal]] = {}
    for row in report["rows"]:
        when = {month: "this", last: "last"}[row["month"]]
        line = expected.setdefault(
            (row["status"], row["currency"]),
            {f"{w}{f}": Decimal(0) for w in ("this", "last") for f in ("Pledged", "Disbursed")},
        )
        line[f"{when}Pledged"] = Decimal(row["pledged"])
        line[f"{when}Disbursed"] = Decimal(row["disbursed"])
    shown = await money_months(visit)
    assert shown == expected
    return shown


async def test_the_overview_shows_money_of_this_month_against_last(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    for lang, calendar in (("en", "gregorian"), ("fa", "jalali")):
        await visit.language(lang)
        # this month (the overview opens on the last complete one): the demo's pledges
        # were recorded today
        await visit.open("/")
        await visit.page.locator("#so-far a").click()
        await visit.page.wait_for_url("**/?month=*")
        month = await visit.page.locator("#money").get_attribute("data-month")
        last = await visit.page.locator("#money").get_attribute("data-last")
        assert month and last
        shown = await money_months_equal_the_json_report(visit, calendar, month, last)
        pledged = {key for key, figures in shown.items() if figures["thisPledged"]}
        assert ("committed", "EUR") in pledged and ("cancelled", "IRR") in pledged
        # the demo disburses 25,000 EUR on the 5th of every Gregorian month
        await visit.open("/?month=" + ("2026-10" if lang == "en" else "1405-07"))
        this_month = (await money_months(visit))[("committed", "EUR")]
        assert this_month["thisDisbursed"] == Decimal("25000.00")
        cell = visit.page.locator("#money-months tr[data-currency=EUR] td[data-this-disbursed]")
        assert await cell.inner_text() == ("25,000" if lang == "en" else "۲۵٬۰۰۰")


async def test_a_filter_narrows_who_what_where_as_the_json_report_does(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    await visit.language("en")
    await visit.open("/who-what-where")
    everything = await visit.page.locator("#www tbody tr[data-row]").count()
    await visit.page.get_by_label("Sector").select_option("education")
    await visit.page.get_by_label("From month").fill("2026-06")
    await visit.page.get_by_label("To month").fill("2026-09")
    await visit.page.get_by_role("button", name="Apply").click()
    await visit.page.wait_for_url(re.compile(r".*sector=education.*"))
    expected = (
        await visit.site.api("/v1/reports/who-what-where?sector=education&from=2026-06&to=2026-09")
    )["rows"]
    rows = await cells(visit, "#www tbody tr[data-row]", "row")
    assert 0 < len(rows) < everything
    assert {k: int(v["total"]) for k, v in rows.items()} == {
        f"{r['partner_id']}/{r['sector']}/{r['site_id']}": r["total"] for r in expected
    }
    # the choice stays in the form
    assert await visit.page.get_by_label("Sector").input_value() == "education"


async def test_pledge_rows_and_fulfilment_bars_equal_the_json_report(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    await visit.open("/pledges")
    expected = {r["pledge_id"]: r for r in (await visit.site.api("/v1/reports/pledges"))["rows"]}
    rows = await cells(visit, "#pledges tbody tr[data-pledge]", "pledge")
    assert {k: (v["pledged"], v["disbursed"]) for k, v in rows.items()} == {
        k: (r["pledged"], r["disbursed"]) for k, r in expected.items()
    }
    for pledge_id, row in expected.items():
        fill = visit.page.locator(f'tr[data-pledge="{pledge_id}"] .meter .fill')
        style = await fill.get_attribute("style") or ""
        width = float(re.findall(r"[\d.]+", style)[0])
        assert width == float(row["fulfilment_percent"] or 0)


async def test_an_overdue_commitment_leads_to_its_meeting(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    await visit.language("en")
    await visit.open("/commitments")
    first = visit.page.locator("#commitments tbody tr").first
    assert await first.get_attribute("class") == "overdue"
    commitment_id = await first.get_attribute("data-commitment")
    overdue = {
        r["commitment_id"]: r
        for r in (await visit.site.api("/v1/reports/commitments?status=overdue"))["rows"]
    }
    assert commitment_id in overdue
    await first.locator("a.meeting-link").click()
    meeting_id = overdue[commitment_id]["meeting_id"]
    await visit.page.wait_for_url(f"**/meetings/{meeting_id}")
    listed = visit.page.locator(f'#meeting-commitments tr[data-commitment="{commitment_id}"]')
    assert await listed.get_attribute("class") == "overdue"
    record = await visit.site.api("/v1/reports/partners/nrc")
    title = next(m["title_en"] for m in record["meetings"] if m["meeting_id"] == meeting_id)
    assert title in await visit.page.locator("h1").inner_text()


async def test_the_log_filters_by_type_and_a_receipt_proves_its_event(visit: Visit) -> None:
    await visit.sign_in("demo-auditor")
    await visit.language("en")
    await visit.open("/log")
    await visit.page.get_by_label("Event type").select_option("CommitmentMade")
    await visit.page.get_by_role("button", name="Apply").click()
    await visit.page.wait_for_url(re.compile(r".*type=CommitmentMade.*"))
    log = (await visit.site.api("/v1/events?limit=10000", "demo-auditor"))["events"]
    made = [e for e in log if e["type"] == "CommitmentMade"]
    rows = visit.page.locator("#log tbody tr[data-position]")
    positions = await rows.evaluate_all("rs => rs.map(r => Number(r.dataset.position))")
    assert positions == sorted((e["position"] for e in made), reverse=True)
    await rows.first.get_by_role("link", name="Proof").click()
    event = made[-1]
    await visit.page.wait_for_url(f"**/log/{event['position']}#proof")
    assert await visit.page.locator("[data-hash]").get_attribute("data-hash") == event["hash"]
    assert event["id"] in await visit.page.locator("#receipt").inner_text()
    assert await visit.page.locator("#proof-status").get_attribute("data-ok") == "true"
