"""Importing a month's deliveries over HTTP against a real database: dry run and
commit, the same file twice, a corrected file, another partner's rows, and the
spellings people type (Persian digits, Solar Hijri dates, separators, spaces)."""

from __future__ import annotations

from tests.imports.conftest import FA_HEADER, Importer, csv_file, delivery


async def test_dry_run_appends_nothing_and_says_what_would_be_new(importer: Importer) -> None:
    before = await importer.count()
    body = csv_file([delivery("Literacy"), delivery("Numeracy")])
    response = await importer.upload("nrc", body, dry_run=True)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["rows"], answer["new"], answer["corrected"], answer["unchanged"]) == (2, 2, 0, 0)
    assert answer["errors"] == [] and answer["receipts"] == []
    assert await importer.count() == before


async def test_commit_appends_every_row_with_receipts_and_twice_appends_nothing(
    importer: Importer,
) -> None:
    before = await importer.count()
    body = csv_file([delivery("Literacy"), delivery("Numeracy"), delivery("Sewing")])
    first = await importer.upload("nrc", body)
    assert first.status_code == 201, first.text
    receipts = first.json()["receipts"]
    assert [r["type"] for r in receipts] == ["ServiceDelivered"] * 3
    assert [r["position"] for r in receipts] == [before + 1, before + 2, before + 3]
    again = await importer.upload("nrc", body)
    assert again.status_code == 200, again.text
    assert (again.json()["new"], again.json()["unchanged"]) == (0, 3)
    assert again.json()["receipts"] == []
    assert await importer.count() == before + 3


async def test_corrected_file_appends_corrections_only_and_dry_run_shows_old_and_new(
    importer: Importer,
) -> None:
    await importer.upload("nrc", csv_file([delivery("Literacy"), delivery("Numeracy")]))
    before = await importer.count()
    corrected = csv_file([delivery("Literacy", women=15), delivery("Numeracy")])
    preview = await importer.upload("nrc", corrected, dry_run=True)
    assert preview.status_code == 200, preview.text
    answer = preview.json()
    assert (answer["new"], answer["corrected"], answer["unchanged"]) == (0, 1, 1)
    [change] = answer["changes"]
    assert change["row"] == 2 and change["field"] == "beneficiaries"
    assert change["old"]["women"] == 12 and change["new"]["women"] == 15
    assert await importer.count() == before
    committed = await importer.upload("nrc", corrected)
    assert committed.status_code == 201, committed.text
    assert [r["type"] for r in committed.json()["receipts"]] == ["DeliveryCorrected"]
    assert (await importer.log_types())[before:] == ["DeliveryCorrected"]
    # the corrected file again: nothing more; the first file again: corrected back
    assert (await importer.upload("nrc", corrected)).json()["unchanged"] == 2
    back = await importer.upload("nrc", csv_file([delivery("Literacy"), delivery("Numeracy")]))
    assert back.json()["corrected"] == 1 and back.status_code == 201


async def test_persian_file_reads_digits_dates_separators_and_spaces(importer: Importer) -> None:
    rows = [
        [
            "gol-tappeh ",
            "آموزش",
            " کلاس سوادآموزی ",
            "۱۴۰۳/۱۲/۱۱",
            "1403/12/30",
            "۱٬۲۰۰",
            "٩",
            "1,020",
            " 18 ",
        ],
        ["gol-tappeh", "education", "کلاس حساب", "2025-03-01", "۲۰۲۵-۰۳-۳۱", "0", "0", "0", "1"],
        ["", "", "", "", "", "", "", "", ""],
        [],
    ]
    response = await importer.upload("nrc", csv_file(rows, FA_HEADER))
    assert response.status_code == 201, response.text
    assert response.json()["new"] == 2
    events = (await importer.get("auditor", "/v1/events?limit=100")).json()["events"]
    delivered = [e["data"] for e in events if e["type"] == "ServiceDelivered"]
    assert delivered[0]["period_start"] == "2025-03-01"  # 1403/12/11
    assert delivered[0]["period_end"] == "2025-03-20"  # 1403/12/30
    assert delivered[0]["beneficiaries"] == {"women": 1200, "men": 9, "girls": 1020, "boys": 18}
    assert delivered[0]["activity"] == "کلاس سوادآموزی"
    assert delivered[0]["partner_id"] == "nrc" and delivered[0]["free_of_charge"] is True


async def test_partner_naming_another_partner_is_forbidden_and_appends_nothing(
    importer: Importer,
) -> None:
    before = await importer.count()
    header = ["partner_id", *EN]
    body = csv_file([["nrc", *delivery("A")], ["ayandeh", *delivery("B")]], header)
    response = await importer.upload("nrc", body)
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await importer.count() == before


EN = [
    "site_id",
    "sector",
    "activity",
    "period_start",
    "period_end",
    "women",
    "men",
    "girls",
    "boys",
]


async def test_roles_that_may_not_post_deliveries_are_forbidden(importer: Importer) -> None:
    body = csv_file([delivery("A")])
    for who in ("coordinator", "auditor", "admin"):
        response = await importer.upload(who, body)
        assert response.status_code == 403, (who, response.text)


async def test_coordinator_imports_challenges_naming_the_partner(importer: Importer) -> None:
    body = csv_file(
        [["nrc", "gol-tappeh", "education", "Not enough classrooms"]],
        ["partner_id", "site_id", "sector", "description"],
    )
    response = await importer.upload("coordinator", body, type="ChallengeReported")
    assert response.status_code == 201, response.text
    assert response.json()["receipts"][0]["type"] == "ChallengeReported"
    again = await importer.upload("coordinator", body, type="ChallengeReported")
    assert again.status_code == 200 and again.json()["unchanged"] == 1
