"""Gaps, trends, a partner's own overview, shareable views and the printed partner
report, in a real browser, against the JSON reports of the same server."""

from __future__ import annotations

import io
import re
import unicodedata
from collections import defaultdict
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

from pypdf import PdfReader

from tests.web.conftest import Visit
from tests.web.test_downloads import _check_page_downloads


def _cells_js() -> str:
    return """
    () => Array.from(document.querySelectorAll('#gaps tbody tr[data-site]')).flatMap(tr =>
      Array.from(tr.querySelectorAll('td.cell')).map(td => [
        tr.dataset.site, td.dataset.sector, Number(td.dataset.partners),
        Number(td.dataset.reached), td.classList.contains('gap')]))
    """


def _matrix(rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, int]]:
    """site × sector -> (partners, reached), from the 3W report's rows."""
    partners: dict[tuple[str, str], set[str]] = defaultdict(set)
    reached: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        partners[(r["site_id"], r["sector"])].add(r["partner_id"])
        reached[(r["site_id"], r["sector"])] += r["total"]
    return {k: (len(v), reached[k]) for k, v in partners.items()}


async def test_the_gaps_matrix_is_the_3w_report_by_site_and_sector(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    for lang, calendar, first, last in (
        ("fa", "jalali", "1405-03", "1405-07"),
        ("en", "gregorian", "2026-05", "2026-10"),
    ):
        await visit.language(lang)
        expected = _matrix(
            (
                await visit.site.api(
                    f"/v1/reports/who-what-where?calendar={calendar}&from={first}&to={last}"
                )
            )["rows"]
        )
        assert expected
        await visit.open(f"/gaps?from={first}&to={last}")
        cells = await visit.page.evaluate(_cells_js())
        sites = {c[0] for c in cells}
        assert {k[0] for k in expected} <= sites
        for site, sector, partners, reached, gap in cells:
            assert (partners, reached) == expected.get((site, sector), (0, 0)), (site, sector)
            assert gap == ((site, sector) not in expected)
        gaps = sum(1 for c in cells if c[4])
        assert await visit.page.locator("#gap-count").get_attribute("data-value") == str(gaps)
        assert 0 < gaps < len(cells)


async def test_a_shared_view_keeps_several_partners_sectors_and_sites_in_the_address(
    visit: Visit,
) -> None:
    await visit.sign_in("demo-coordinator")
    await visit.language("en")
    everything = (await visit.site.api("/v1/reports/who-what-where?from=2026-01&to=2026-12"))[
        "rows"
    ]
    partners = sorted({r["partner_id"] for r in everything})[:2]
    sectors = sorted({r["sector"] for r in everything if r["partner_id"] in partners})
    assert len(partners) == 2 and len(sectors) >= 2
    # chosen in the form: the address repeats each choice
    await visit.open("/who-what-where")
    await visit.page.get_by_label("Partner").select_option(partners)
    await visit.page.get_by_label("Sector").select_option(sectors)
    await visit.page.get_by_label("From month").fill("2026-01")
    await visit.page.get_by_label("To month").fill("2026-12")
    await visit.page.get_by_role("button", name="Apply").click()
    await visit.page.wait_for_url(re.compile(r".*partner=.*partner=.*"))
    query = parse_qs(urlparse(visit.page.url).query)
    assert sorted(query["partner"]) == partners and sorted(query["sector"]) == sectors
    expected = {
        f"{r['partner_id']}/{r['sector']}/{r['site_id']}": r["total"]
        for r in everything
        if r["partner_id"] in partners and r["sector"] in sectors
    }
    shown = await visit.page.locator("#www tbody tr[data-row]").evaluate_all(
        "rs => rs.map(r => [r.dataset.row, Number(r.querySelector('[data-total]').dataset.total)])"
    )
    assert dict(shown) == expected and len(expected) < len(everything)
    chosen = await visit.page.locator("#f-partner option:checked").evaluate_all(
        "os => os.map(o => o.value)"
    )
    assert chosen == partners
    # the address alone opens the same view, and its downloads are its rows
    path = urlparse(visit.page.url)
    view = f"{path.path}?{path.query}"
    assert await _check_page_downloads(visit, view) == 1
    # the same view on the gaps page: only those partners' cells
    await visit.open("/gaps?" + path.query)
    cells = await visit.page.evaluate(_cells_js())
    assert {c[1] for c in cells} == set(sectors)
    assert await _check_page_downloads(visit, "/gaps?" + path.query) == 1
    # a value that cannot be one is a 400 page, not a 500 and not ignored
    for bad in ("partner=nrc&partner=NRC%20x", "sector=health&sector=nothing", "site=%00"):
        response = await visit.open(f"/who-what-where?{bad}")
        assert response.status == 400, bad
        response = await visit.open(f"/gaps?{bad}")
        assert response.status == 400, bad


async def test_trends_are_the_deliveries_and_pledges_reports_month_by_month(
    visit: Visit,
) -> None:
    await visit.sign_in("demo-coordinator")
    for lang, calendar, first, last in (
        ("en", "gregorian", "2026-04", "2026-11"),
        ("fa", "jalali", "1405-02", "1405-08"),
    ):
        await visit.language(lang)
        await visit.open(f"/trends?from={first}&to={last}")
        for group, key in (("sector", "sector"), ("site", "site_id"), ("partner", "partner_id")):
            rows = (
                await visit.site.api(
                    f"/v1/reports/deliveries?group_by=month,{group}&calendar={calendar}"
                    f"&from={first}&to={last}"
                )
            )["rows"]
            totals: dict[str, int] = defaultdict(int)
            for r in rows:
                totals[r[key]] += r["total"]
            shown = await visit.page.locator(f"#trend-{group} tbody tr[data-key]").evaluate_all(
                "rs => rs.map(r => [r.dataset.key,"
                " Number(r.querySelector('[data-total]').dataset.total)])"
            )
            assert dict(shown) == dict(totals), group
            chart = visit.page.locator(f"#h-{group} ~ figure svg")
            # axes, gridlines and a legend entry per series drawn
            assert await chart.locator("polyline").count() == min(len(totals), 8)
            assert await chart.locator("line").count() > len(totals) + 4
        pledges = (
            await visit.site.api(
                f"/v1/reports/pledges?view=partners&calendar={calendar}&from={first}&to={last}"
            )
        )["rows"]
        money: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for r in pledges:
            if r["status"] != "cancelled":
                money[(r["partner_id"], r["currency"])] += Decimal(r["pledged"])
        shown_money = await visit.page.locator("#trend-money tbody tr[data-partner]").evaluate_all(
            "rs => rs.map(r => [r.dataset.partner, r.dataset.currency,"
            " r.querySelector('[data-pledged]').dataset.pledged])"
        )
        assert {(p, c): Decimal(v) for p, c, v in shown_money} == dict(money)
        # one chart per currency, each with pledged, committed and disbursed
        currencies = {c for _, c in money}
        assert await visit.page.locator("#h-money ~ figure svg").count() == len(currencies)


async def test_a_partner_lands_on_its_own_figures_with_the_shared_3w_one_click_away(
    visit: Visit,
) -> None:
    await visit.sign_in("demo-nrc")
    await visit.language("en")
    own = visit.page.locator("#own")
    assert await own.get_attribute("data-partner") == "nrc"
    month = await visit.page.locator("#shown-month").get_attribute("data-month")
    # every row of the month (the report groups by all four unless told)
    mine = sum(
        r["total"]
        for r in (
            await visit.site.api(f"/v1/reports/deliveries?partner=nrc&from={month}&to={month}")
        )["rows"]
    )
    everyone = sum(
        r["total"]
        for r in (await visit.site.api(f"/v1/reports/deliveries?from={month}&to={month}"))["rows"]
    )
    this = visit.page.locator("#totals tr[data-month=this] [data-total]")
    assert int(await this.get_attribute("data-total") or -1) == mine, (month, mine, everyone)
    assert mine < everyone
    await visit.page.locator("#own-shared").click()
    await visit.page.wait_for_url("**/who-what-where")
    partners = await visit.page.locator("#www tbody tr[data-row]").evaluate_all(
        "rs => [...new Set(rs.map(r => r.dataset.row.split('/')[0]))]"
    )
    assert len(partners) > 1
    await visit.open("/")
    await visit.page.locator("#own-record").click()
    await visit.page.wait_for_url("**/partners/nrc")


def _pdf_pages(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    # NFKC: Arabic presentation forms back to letters
    return [unicodedata.normalize("NFKC", p.extract_text() or "") for p in reader.pages]


async def test_the_printed_partner_report_is_a_document_for_the_meeting_table(
    visit: Visit,
) -> None:
    await visit.sign_in("demo-coordinator")
    for lang, calendar, months in (
        ("en", "gregorian", "from=2026-01&to=2026-12"),
        ("fa", "jalali", "from=1404-10&to=1405-09"),
    ):
        record = await visit.site.api(f"/v1/reports/partners/nrc?calendar={calendar}&{months}")
        path = f"/partners/nrc?{months}"
        await visit.language(lang)
        await visit.open(path)
        head = {
            key: await visit.page.locator(f"#{key}").inner_text()
            for key in ("issued-by", "issued-on", "report-period")
        }
        assert all(head.values()), head
        country = await visit.page.locator("#country").inner_text()
        assert country == ("Norway" if lang == "en" else "نروژ")
        subtotals = await visit.page.locator("#record-deliveries tr.subtotal").count()
        assert subtotals >= 2
        assert await visit.page.locator("#record-deliveries tfoot").count() == 0
        # the attestation's place: the link that signs the record (the signed block,
        # #attestation, is tests/audit/test_verify_page.py's)
        assert await visit.page.locator("#attest-link").count() == 1
        await visit.page.emulate_media(media="print")
        data = await visit.page.pdf(format="A4", print_background=True)
        await visit.page.emulate_media(media="screen")
        pages = _pdf_pages(data)
        assert len(pages) >= 2, "the report fits one page: page numbers unchecked"
        for number, text in enumerate(pages, start=1):
            assert f"{number} / {len(pages)}" in text, f"{lang} page {number}: {text[-200:]}"
        everything = "\n".join(pages)
        grand = "Total for the period" if lang == "en" else None
        if grand is not None:
            assert everything.count(grand) == 1
            last_row_page = max(i for i, t in enumerate(pages) if "Month total" in t)
            grand_page = next(i for i, t in enumerate(pages) if grand in t)
            assert grand_page >= last_row_page
            assert head["report-period"] == "January 2026 to December 2026"
            assert head["report-period"] in everything
            assert head["issued-on"] in everything
            assert "Bureau of Foreign Nationals" in everything
            assert "international_ngo" not in everything and "International NGO" in everything
        else:
            # Persian text comes out of a PDF in visual order; the figures do not
            total = record["deliveries_total"]["total"]
            persian = f"{total:,}".translate(str.maketrans("0123456789,", "۰۱۲۳۴۵۶۷۸۹٬"))
            assert persian in everything or persian[::-1] in everything, everything[-400:]
