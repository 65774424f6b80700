"""Every table a page draws is offered as CSV, HXL and XLSX of exactly its rows; every
page says when its data is from; `?at_position=N` shows a page as it stood at N, with a
banner, and its figures are the JSON report's at N."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import openpyxl

from tests.web.conftest import Visit
from tests.web.test_pages import pages

# for each download block: the table drawn just before it, its rows and their totals
_TABLES_JS = """
() => Array.from(document.querySelectorAll('p.downloads')).map(p => {
  let box = p.previousElementSibling;
  const table = box.tagName === 'TABLE' ? box : box.querySelector('table');
  const rows = Array.from(table.querySelectorAll('tbody tr'))
    .filter(tr => !(tr.cells.length === 1 && tr.cells[0].colSpan > 1))
    .filter(tr => !tr.classList.contains('subtotal'));  // a month's subtotal is not a row of data
  const links = {};
  for (const a of p.querySelectorAll('a')) links[a.dataset.format] = a.getAttribute('href');
  return {
    name: p.dataset.downloads,
    rows: rows.length,
    totals: rows.map(tr => tr.querySelector('[data-total]'))
                .filter(td => td).map(td => td.dataset.total),
    links,
  };
})
"""


async def _get(visit: Visit, path: str) -> Any:
    response = await visit.context.request.get(visit.site.url + path)
    assert response.status == 200, f"{path}: {response.status} {await response.text()}"
    return response


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def _check_page_downloads(visit: Visit, path: str) -> int:
    await visit.open(path)
    found = await visit.page.evaluate(_TABLES_JS)
    base = path.split("?")[0]
    for table in found:
        where = f"{path} {table['name']}"
        assert set(table["links"]) == {"csv", "hxl", "xlsx"}, where
        plain = await _get(visit, base + table["links"]["csv"])
        assert plain.headers["content-type"].startswith("text/csv"), where
        assert "attachment" in plain.headers["content-disposition"], where
        rows = _csv(await plain.text())
        assert len(rows) == table["rows"], f"{where}: {len(rows)} rows, page {table['rows']}"
        if table["totals"]:
            assert [r["total"] for r in rows] == table["totals"], where
        hxl = list(
            csv.reader(io.StringIO(await (await _get(visit, base + table["links"]["hxl"])).text()))
        )
        assert all(tag.startswith("#") for tag in hxl[1]), where
        assert len(hxl) == len(rows) + 2, where
        book = await _get(visit, base + table["links"]["xlsx"])
        sheet = openpyxl.load_workbook(io.BytesIO(await book.body()), read_only=True).active
        assert sheet is not None
        cells = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert cells[0] == hxl[0] and cells[1] == hxl[1], where
        assert len(cells) == len(rows) + 2, where
        for line, row in zip(cells[2:], rows, strict=True):
            line += [None] * (len(hxl[0]) - len(line))  # empty cells at the end are not stored
            for header, value in zip(hxl[0], line, strict=True):
                if isinstance(value, int | float):  # a number column, as a number
                    assert Decimal(str(value)) == Decimal(row[header]), f"{where} {header}"
                else:
                    assert (value or "") == row[header], f"{where} {header}"
    return len(found)


async def test_every_table_downloads_as_its_rows_in_csv_hxl_and_xlsx(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    offered = 0
    for lang in ("fa", "en"):
        await visit.language(lang)
        for path in (await pages(visit.site)).values():
            offered += await _check_page_downloads(visit, path)
        # a filtered view and a later page download what they show, not everything
        offered += await _check_page_downloads(visit, "/who-what-where?sector=health")
        offered += await _check_page_downloads(visit, "/commitments?status=overdue")
    assert offered > 30


async def test_every_page_says_when_its_data_is_from(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    for lang, clock in (("fa", "به وقت تهران"), ("en", "Tehran time")):
        await visit.language(lang)
        for path in (await pages(visit.site)).values():
            await visit.open(path)
            line = await visit.page.locator(".as-of").inner_text()
            assert clock in line, f"{path}: {line}"


async def test_a_page_at_a_past_position_is_the_report_at_that_position(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    await visit.language("en")
    head = (await visit.site.api("/v1/reports/who-what-where"))["as_of_position"]
    at = head // 2
    then = await visit.site.api(f"/v1/reports/who-what-where?at_position={at}")
    now = await visit.site.api("/v1/reports/who-what-where")
    assert sum(r["total"] for r in then["rows"]) < sum(r["total"] for r in now["rows"])

    await visit.open(f"/who-what-where?at_position={at}")
    banner = visit.page.locator("#historical")
    assert "as it stood" in await banner.inner_text()
    assert await visit.page.locator(".as-of").get_attribute("data-as-of") == str(at)
    drawn = await visit.page.locator("#www tbody tr[data-row]").evaluate_all(
        "rows => rows.map(r => [r.dataset.row, r.querySelector('[data-total]').dataset.total])"
    )
    assert drawn == [
        [f"{r['partner_id']}/{r['sector']}/{r['site_id']}", str(r["total"])] for r in then["rows"]
    ]
    # its download is the report's CSV at that position, byte for byte
    page_csv = await _get(visit, f"/who-what-where?at_position={at}&download=www&format=csv")
    api_csv = await visit.context.request.get(
        f"{visit.site.url}/v1/reports/who-what-where?at_position={at}&format=csv",
        headers=visit.site.bearer("demo-coordinator"),
    )
    assert await page_csv.text() == await api_csv.text()
    # the filters keep the position; the banner leads back to today
    assert await visit.page.locator("form.filters input[name=at_position]").input_value() == str(at)
    await banner.get_by_role("link").click()
    await visit.page.wait_for_load_state()
    assert await visit.page.locator("#historical").count() == 0
    assert await visit.page.locator(".as-of").get_attribute("data-as-of") == str(
        now["as_of_position"]
    )


async def test_every_page_answers_at_a_past_position_in_persian_digits_too(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    at = (await visit.site.api("/v1/reports/who-what-where"))["as_of_position"] - 1
    typed = str(at).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    for path in (await pages(visit.site)).values():
        if path.startswith(("/log/", "/audit")):
            continue  # a receipt is of one position; the audit page is of the signed log
        joiner = "&" if "?" in path else "?"
        response = await visit.open(f"{path}{joiner}at_position={typed}")
        assert response.status == 200, path
        assert await visit.page.locator("#historical").count() == 1, path
        assert await visit.page.locator(".as-of").get_attribute("data-as-of") == str(at), path
    response = await visit.open("/who-what-where?at_position=99999999")
    assert response.status == 400


async def test_the_progress_page_is_the_progress_report(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    await visit.language("fa")
    await visit.open("/progress?from=۱۴۰۵-۰۲&to=۱۴۰۵-۰۷")
    drawn = await visit.page.locator("#progress-partner tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.key, r.querySelector('[data-planned]').dataset.planned,"
        " r.querySelector('[data-reached]').dataset.reached])"
    )
    report = await visit.site.api(
        "/v1/reports/progress?group_by=partner&calendar=jalali&from=1405-02&to=1405-07"
    )
    assert drawn == [
        [r["partner_id"], str(r["planned"]), str(r["reached"])] for r in report["rows"]
    ]
    assert any(int(planned) > 0 for _, planned, _ in drawn)
    month = await visit.page.locator("#f-month").input_value()
    latin = month.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    complete = await visit.site.api(
        f"/v1/reports/progress?view=completeness&calendar=jalali&month={latin}"
    )
    states = await visit.page.locator("#completeness tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.partner, r.dataset.reported])"
    )
    assert states == [[r["partner_id"], "yes" if r["reported"] else "no"] for r in complete["rows"]]
