"""Exports are safe to open in a spreadsheet: text a partner wrote never runs as a
formula in a CSV or HXL cell, and numbers stay numbers."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest

from server.projections.formats import to_csv
from tests.api.conftest import Api, ev

# (what a partner types, what the cell must say)
DANGEROUS = [
    ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1)", "'@SUM(1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
]
SECTORS = ["education", "livelihoods", "protection", "health", "shelter", "wash"]


def table(text: str) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.mark.parametrize(("typed", "cell"), DANGEROUS)
def test_a_text_cell_that_would_start_a_formula_is_escaped(typed: str, cell: str) -> None:
    columns = (("activities", "#activity+name"), ("total", "#reached+total"))
    written = table(to_csv([{"activities": typed, "total": 3}], columns))
    assert written == [{"activities": cell, "total": "3"}]
    # a list cell is one text: its first item decides
    written = table(to_csv([{"activities": [typed, "Literacy"], "total": 3}], columns))
    assert written[0]["activities"] == cell + "; Literacy"


def test_numbers_stay_numbers_by_their_column_not_their_look() -> None:
    columns = (
        ("partner_name_en", "#org+name"),
        ("outstanding", "#value+outstanding"),
        ("days_overdue", "#meta+overdue+days"),
        ("fulfilment_percent", "#indicator+pct"),
    )
    rows = [
        {"partner_name_en": "-1", "outstanding": "-50.00", "days_overdue": -3},
        {"partner_name_en": "Ayandeh", "outstanding": "=1+1", "fulfilment_percent": "12.5"},
    ]
    written = table(to_csv(rows, columns, hxl=True))
    assert written[0] == dict(zip(written[0], [c for _, c in columns], strict=True))
    # text that looks like a number is still text; a negative number is still a number
    assert written[1] == {
        "partner_name_en": "'-1",
        "outstanding": "-50.00",
        "days_overdue": "-3",
        "fulfilment_percent": "",
    }
    # a number column holding something else is treated as text, not trusted
    assert written[2]["outstanding"] == "'=1+1"
    assert written[2]["fulfilment_percent"] == "12.5"


async def test_partners_text_in_every_export_format_is_escaped(api: Api) -> None:
    await api.setup_world()
    deliveries = [
        ev("ServiceDelivered", partner_id="nrc", sector=sector, activity=typed)
        for sector, (typed, _) in zip(SECTORS, DANGEROUS, strict=True)
    ]
    pledges = [str(uuid.uuid4()) for _ in DANGEROUS]
    posts: list[Any] = [
        *deliveries,
        *[ev("PledgeMade", pledge_id=p, partner_id="nrc") for p in pledges],
        *[
            ev("PledgeCommitted", pledge_id=p, agreement_ref=typed)
            for p, (typed, _) in zip(pledges, DANGEROUS, strict=True)
        ],
    ]
    response = await api.post("nrc", posts)
    assert response.status_code == 201, response.text
    head = response.json()[-1]["position"]
    expected = {cell for _, cell in DANGEROUS}
    for fmt in ("csv", "hxl"):
        www = await api.get(
            "coordinator", f"/v1/reports/who-what-where?format={fmt}&min_position={head}"
        )
        assert www.status_code == 200, www.text
        rows = table(www.text)[1:] if fmt == "hxl" else table(www.text)
        assert {r["activities"] for r in rows} == expected
        assert all(r["total"].isdigit() for r in rows)
        pledged = await api.get("nrc", f"/v1/reports/pledges?format={fmt}&min_position={head}")
        assert pledged.status_code == 200, pledged.text
        rows = table(pledged.text)[1:] if fmt == "hxl" else table(pledged.text)
        assert {r["agreement_ref"] for r in rows} == expected
        assert {r["pledged"] for r in rows} == {"250000.00"}
