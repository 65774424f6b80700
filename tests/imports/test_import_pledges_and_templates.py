"""Pledges and disbursements from a spreadsheet, and the templates: what a template
holds (labels, HXL row, examples, drop-down lists) and that a filled-in template
imports as it is."""

from __future__ import annotations

import io
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from server.demo import scenario
from server.imports.reading import XLSX
from tests.imports.conftest import Importer, csv_file

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
PLEDGE_HEADER = ["مبلغ", "ارز", "بخش‌ها", "شروع دوره", "پایان دوره", "شرح"]


async def test_pledge_then_disbursement_and_a_changed_amount_is_refused(
    importer: Importer,
) -> None:
    pledge = csv_file(
        [
            [
                "۲۵۰٬۰۰۰",
                "EUR",
                "آموزش؛ livelihoods".replace("؛", ";"),
                "1403/10/11",
                "1404/10/10",
                "x",
            ]
        ],
        PLEDGE_HEADER,
    )
    made = await importer.upload("nrc", pledge, type="PledgeMade")
    assert made.status_code == 201, made.text
    pledge_id = made.json()["receipts"][0]["stream"].removeprefix("pledge-")
    events = (await importer.get("auditor", "/v1/events?limit=100")).json()["events"]
    data = events[-1]["data"]
    assert data["amount"] == "250000" and data["sectors"] == ["education", "livelihoods"]
    assert (await importer.upload("nrc", pledge, type="PledgeMade")).json()["unchanged"] == 1

    paid = csv_file(
        [[pledge_id, "50,000.50", "EUR", "۱۴۰۳/۱۱/۰۱"]],
        ["pledge_id", "amount", "currency", "disbursed_on"],
    )
    first = await importer.upload("nrc", paid, type="DisbursementRecorded")
    assert first.status_code == 201, first.text
    again = await importer.upload("nrc", paid, type="DisbursementRecorded")
    assert again.status_code == 200 and again.json()["unchanged"] == 1

    before = await importer.count()
    changed = pledge.replace("۲۵۰٬۰۰۰".encode(), b"300000")
    refused = await importer.upload("nrc", changed, type="PledgeMade")
    assert refused.status_code == 422, refused.text
    assert [e["rule"] for e in refused.json()["errors"]] == ["pledge-already-made"]
    assert await importer.count() == before


async def test_csv_template_has_labels_hxl_row_and_examples_in_persian(
    importer: Importer,
) -> None:
    response = await importer.get("auditor", "/v1/imports/templates/ServiceDelivered?format=csv")
    assert response.status_code == 200, response.text
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:4] == ["نمونه", "شریک", "محل", "بخش"]
    assert lines[1].split(",")[:4] == [
        "#meta+example",
        "#org+impl+code",
        "#loc+code",
        "#sector+code",
    ]
    assert all(line.startswith("نمونه,") for line in lines[2:]) and len(lines) == 4


async def test_xlsx_template_has_lists_and_a_filled_template_imports(importer: Importer) -> None:
    # the sites come from the directory projection: let it catch up with the world
    head = await importer.count()
    await importer.get("coordinator", f"/v1/reports/who-what-where?min_position={head}")
    response = await importer.get(
        "nrc", "/v1/imports/templates/ServiceDelivered?format=xlsx&lang=en"
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(XLSX)
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["example", "Partner", "Site"]
    formulas = {v.formula1 for v in sheet.data_validations.dataValidation}
    assert any("lists" in (f or "") for f in formulas)
    sites = [c.value for c in workbook["lists"]["B"] if c.value is not None]
    assert sites == ["site", "Gol Tappeh multipurpose center"]

    # the examples are skipped: the template as downloaded imports nothing
    empty = await importer.upload("nrc", response.content, media=XLSX, dry_run=True)
    assert empty.status_code == 422 and empty.json()["errors"][0]["rule"] == "no-rows"
    sheet.append(
        [
            "",
            "",
            "Gol Tappeh multipurpose center",
            "Education",
            "Reading club",
            "2025-03-01",
            "2025-03-31",
        ]
    )
    for column, value in zip("HIJK", (1, 2, 3, 4), strict=True):
        sheet[f"{column}5"] = value
    out = io.BytesIO()
    workbook.save(out)
    filled = await importer.upload("nrc", out.getvalue(), media=XLSX)
    assert filled.status_code == 201, filled.text
    assert filled.json()["new"] == 1


async def test_a_template_of_another_type_is_not_found(importer: Importer) -> None:
    response = await importer.get("nrc", "/v1/imports/templates/MeetingHeld")
    assert response.status_code in (400, 404)


async def test_the_sample_month_in_docs_examples_imports_into_the_demo_directory(
    client: AsyncTestClient[Litestar], tokens: dict[str, str]
) -> None:
    world = Importer(client, tokens)
    _admin, registrations = next(scenario())
    posted = await world.post("admin", registrations)
    assert posted.status_code == 201, posted.text
    head = await world.count()
    await world.get("coordinator", f"/v1/reports/who-what-where?min_position={head}")
    sample = (EXAMPLES / "nrc-deliveries-1405-07.xlsx").read_bytes()
    response = await world.upload("nrc", sample, media=XLSX)
    assert response.status_code == 201, response.text
    assert (response.json()["rows"], response.json()["new"]) == (12, 12)
