"""The dashboard's forms over HTTP, through the app: each form posts through the same
posting service as POST /v1/events, a refused form appends nothing and says why next
to the field, keeping what was typed; a form sent twice appends once; auditors get no
form. The browser tests (test_forms_browser.py) show the same from a person's side."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.cli.demo import load
from server.config import Settings
from tests.conftest import cloned_database


@dataclass
class Desk:
    client: AsyncTestClient[Litestar]
    dsn: str
    tokens: dict[str, str]

    async def head(self) -> int:
        conn = await asyncpg.connect(self.dsn)
        try:
            return int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM events"))
        finally:
            await conn.close()

    async def sign_in(self, who: str, lang: str = "en") -> None:
        client = self.client
        client.cookies.clear()
        page = await client.get("/sign-in")
        token = _csrf(page.text)
        signed = await client.post(
            "/sign-in", data={"token": self.tokens[who], "_csrf_token": token}
        )
        assert signed.status_code in (200, 303), signed.text
        client.cookies.set("hamkari_lang", lang)

    async def form(self, path: str) -> dict[str, str]:
        """The hidden fields of the form drawn at `path` (the CSRF token, its form_id)."""
        page = await self.client.get(path)
        assert page.status_code == 200, page.text
        return {"_csrf_token": _csrf(page.text), "form_id": _form_id(page.text)}

    async def post(self, path: str, hidden: dict[str, str], **fields: Any) -> Any:
        return await self.client.post(path, data={**hidden, **fields})


def _csrf(text: str) -> str:
    return re.findall(r'name="_csrf_token" value="([^"]+)"', text)[0]


def _form_id(text: str) -> str:
    return re.findall(r'name="form_id" value="([^"]+)"', text)[0]


def _error(text: str, name: str) -> str:
    found = re.search(rf'data-error-for="{re.escape(name)}">([^<]*)<', text)
    assert found, f"no error next to {name!r}"
    return html.unescape(found.group(1))


def _value(text: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', text)
    assert found, f"no field {name!r}"
    return html.unescape(found.group(1))


@pytest.fixture(scope="module")
async def desk_database(pg_admin_dsn: str, template_database: str) -> AsyncIterator[str]:
    async with cloned_database(pg_admin_dsn, template_database, "forms") as dsn:
        yield dsn


@pytest.fixture(scope="module")
async def desk(desk_database: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Desk]:
    data_dir: Path = tmp_path_factory.mktemp("forms")
    settings = Settings(database_url=desk_database, data_dir=str(data_dir))
    _, _, tokens = await load(desk_database, settings, {})
    async with AsyncTestClient(create_app(settings), base_url="https://testserver.local") as c:
        yield Desk(c, desk_database, tokens)


DELIVERY = {
    "shape": "short",
    "site_id": "gol-tappeh",
    "sector": "livelihoods",
    "activity": "Vocational training: tailoring",
    "period_start": "۱۴۰۴/۰۱/۰۱",  # 2025-03-21
    "period_end": "1404/01/10",
    "women": "۱۲",
    "men": "3",
    "girls": "",
    "boys": "1,000",
    "population_group": "REF",
    "nationality": "AF",
    "notes": "",
}


async def test_a_partner_reports_a_delivery_and_sending_it_twice_appends_once(
    desk: Desk,
) -> None:
    await desk.sign_in("demo-nrc")
    hidden = await desk.form("/forms/delivery")
    before = await desk.head()
    first = await desk.post("/forms/delivery", hidden, **DELIVERY)
    assert first.status_code == 201, first.text
    assert "data-position" in first.text and "data-hash" in first.text
    assert await desk.head() == before + 1
    again = await desk.post("/forms/delivery", hidden, **DELIVERY)
    assert again.status_code == 200, again.text
    assert await desk.head() == before + 1
    # the same receipt, and the delivery as the API has it
    position = re.findall(r'data-position="(\d+)"', first.text)[0]
    assert re.findall(r'data-position="(\d+)"', again.text)[0] == position
    delivery_id = str(uuid.uuid5(uuid.UUID(hidden["form_id"]), "delivery"))
    stream = await desk.client.get(
        f"/v1/streams/delivery-{delivery_id}",
        headers={"Authorization": f"Bearer {desk.tokens['demo-nrc']}"},
    )
    state = stream.json()["state"]
    assert state["beneficiaries"] == {"women": 12, "men": 3, "girls": 0, "boys": 1000}
    assert state["period_start"] == "2025-03-21" and state["period_end"] == "2025-03-30"


async def test_a_broken_rule_is_shown_next_to_its_field_and_nothing_is_appended(
    desk: Desk,
) -> None:
    await desk.sign_in("demo-nrc", "fa")
    hidden = await desk.form("/forms/delivery")
    before = await desk.head()
    future = {**DELIVERY, "period_start": "1499/01/01", "period_end": "1499/01/02"}
    refused = await desk.post("/forms/delivery", hidden, **future)
    assert refused.status_code == 422
    assert _error(refused.text, "period_end") == "دورهٔ خدمت نمی‌تواند در آینده باشد."
    # what was typed is kept, as typed
    assert _value(refused.text, "period_start") == "1499/01/01"
    assert _value(refused.text, "women") == "۱۲"
    ends_first = {**DELIVERY, "period_start": "1404/01/10", "period_end": "1404/01/01"}
    refused = await desk.post("/forms/delivery", hidden, **ends_first)
    assert _error(refused.text, "period_end") == "پایان دوره پیش از آغاز آن است."
    unreadable = {**DELIVERY, "period_start": "10/01/1404", "women": "a dozen"}
    refused = await desk.post("/forms/delivery", hidden, **unreadable)
    assert "۱۴۰۵/۰۸/۰۱" in _error(refused.text, "period_start")
    assert _error(refused.text, "women") == "عدد نیست."
    assert await desk.head() == before
    # the same form, fixed, goes through with the same ids
    fixed = await desk.post("/forms/delivery", hidden, **DELIVERY)
    assert fixed.status_code == 201, fixed.text


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/forms/delivery", "activity", "Tailoring\x00"),
        ("/forms/delivery", "notes", "a\u202enote"),
        ("/forms/challenge", "description", "Roads closed\x00"),
        ("/forms/pledge", "description", "\x07"),
    ],
)
async def test_forms_refuse_nul_and_refused_characters_with_nothing_appended(
    desk: Desk, path: str, field: str, value: str
) -> None:
    await desk.sign_in("demo-nrc")
    hidden = await desk.form(path)
    base: dict[str, Any] = {
        "/forms/delivery": DELIVERY,
        "/forms/challenge": {"description": "Roads closed", "site_id": "gol-tappeh"},
        "/forms/pledge": {
            "amount": "1000",
            "currency": "EUR",
            "sectors": "education",
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
        },
    }[path]
    before = await desk.head()
    refused = await desk.post(path, hidden, **{**base, field: value})
    assert refused.status_code == 422, refused.text
    assert _error(refused.text, field)
    assert await desk.head() == before


async def test_a_form_without_its_csrf_token_or_form_id_is_refused(desk: Desk) -> None:
    await desk.sign_in("demo-nrc")
    hidden = await desk.form("/forms/challenge")
    before = await desk.head()
    no_csrf = await desk.client.post(
        "/forms/challenge", data={"form_id": hidden["form_id"], "description": "x"}
    )
    assert no_csrf.status_code == 403
    no_id = await desk.client.post(
        "/forms/challenge", data={"_csrf_token": hidden["_csrf_token"], "description": "x"}
    )
    assert no_id.status_code == 400
    broken = await desk.post("/forms/challenge", {**hidden, "form_id": "not-a-uuid"})
    assert broken.status_code == 400
    assert await desk.head() == before


async def test_a_partner_corrects_and_retracts_its_own_delivery_only(desk: Desk) -> None:
    await desk.sign_in("demo-nrc")
    hidden = await desk.form("/forms/delivery")
    made = await desk.post("/forms/delivery", hidden, **{**DELIVERY, "activity": "Sewing"})
    assert made.status_code == 201
    delivery_id = str(uuid.uuid5(uuid.UUID(hidden["form_id"]), "delivery"))
    page = await desk.client.get(f"/forms/deliveries/{delivery_id}")
    assert page.status_code == 200
    # the form shows the values as they stand, in the page's calendar
    assert _value(page.text, "activity") == "Sewing"
    assert _value(page.text, "boys") == "1000"
    assert _value(page.text, "period_start") == "2025-03-21"
    correct = re.search(r'id="correct-form".*?</form>', page.text, re.S)
    assert correct
    fields = {
        "_csrf_token": _csrf(page.text),
        "form_id": _form_id(correct.group(0)),
        "version": _value(correct.group(0), "version"),
    }
    unchanged = await desk.post(
        f"/forms/deliveries/{delivery_id}/correct",
        fields,
        **{**DELIVERY, "activity": "Sewing", "reason": "typo"},
    )
    assert unchanged.status_code == 422
    assert "Nothing was changed" in unchanged.text
    before = await desk.head()
    corrected = await desk.post(
        f"/forms/deliveries/{delivery_id}/correct",
        fields,
        **{**DELIVERY, "activity": "Sewing", "boys": "100", "reason": "typo in boys"},
    )
    assert corrected.status_code == 201, corrected.text
    assert await desk.head() == before + 1
    data = await desk.client.get(
        f"/v1/streams/delivery-{delivery_id}/events",
        headers={"Authorization": f"Bearer {desk.tokens['demo-nrc']}"},
    )
    last = data.json()[-1]
    assert last["type"] == "DeliveryCorrected"
    assert last["data"]["beneficiaries"] == {"women": 12, "men": 3, "girls": 0, "boys": 100}
    # only what was changed is corrected
    assert set(last["data"]) == {"delivery_id", "beneficiaries", "reason"}
    # the drawn version is stale now: another correction from the old form is refused
    stale = await desk.post(
        f"/forms/deliveries/{delivery_id}/correct",
        {**fields, "form_id": str(uuid.uuid4())},
        **{**DELIVERY, "boys": "7", "reason": "again"},
    )
    assert stale.status_code == 422 and "changed this meanwhile" in stale.text
    page = await desk.client.get(f"/forms/deliveries/{delivery_id}")
    retract = re.search(r'id="retract-form".*?</form>', page.text, re.S)
    assert retract
    gone = await desk.post(
        f"/forms/deliveries/{delivery_id}/retract",
        {
            "_csrf_token": _csrf(page.text),
            "form_id": _form_id(retract.group(0)),
            "version": _value(retract.group(0), "version"),
        },
        reason="Recorded twice",
    )
    assert gone.status_code == 201, gone.text
    assert (await desk.client.get(f"/forms/deliveries/{delivery_id}")).status_code == 404
    # another partner's delivery, or none at all: 403 alike
    await desk.sign_in("demo-ayandeh")
    assert (await desk.client.get(f"/forms/deliveries/{delivery_id}")).status_code == 403
    assert (await desk.client.get(f"/forms/deliveries/{uuid.uuid4()}")).status_code == 403


async def test_a_coordinator_records_a_meeting_with_commitments_in_one_batch(
    desk: Desk,
) -> None:
    await desk.sign_in("demo-coordinator")
    hidden = await desk.form("/forms/meeting")
    typed = {
        "rows": "2",
        "held_on": "2025-06-01",
        "title_fa": "جلسهٔ هماهنگی",
        "title_en": "Coordination meeting",
        "chair_partner_id": "directorate",
        "participants": ["nrc", "ayandeh"],
        "person-nrc": "Sara",
        "presented-nrc": "Classes resumed",
        "challenges-nrc": "Fuel\n\nRoads",
        "c0-description_en": "Share the list",
        "c0-owner_partner_id": "nrc",
        "c0-due_on": "2025-07-01",
        "c1-description_fa": "فهرست را بفرستید",
        "c1-owner_partner_id": "ayandeh",
        "c1-due_on": "",
    }
    before = await desk.head()
    refused = await desk.post("/forms/meeting", hidden, **typed)
    assert refused.status_code == 422
    assert _error(refused.text, "c1-due_on") == "This field is required."
    assert await desk.head() == before
    # a commitment owned by nobody registered: the rule, next to that row's owner
    wrong = {**typed, "c1-due_on": "2025-07-15", "c1-owner_partner_id": "nobody"}
    refused = await desk.post("/forms/meeting", hidden, **wrong)
    assert refused.status_code == 422
    assert _error(refused.text, "c1-owner_partner_id") == "This partner is not registered."
    assert await desk.head() == before
    done = await desk.post("/forms/meeting", hidden, **{**typed, "c1-due_on": "2025-07-15"})
    assert done.status_code == 201, done.text
    assert await desk.head() == before + 4  # meeting, one presentation, two commitments
    types = re.findall(r'data-type="(\w+)"', done.text)
    assert types == ["MeetingHeld", "ReportPresented", "CommitmentMade", "CommitmentMade"]


async def test_one_more_commitment_row_keeps_what_was_typed(desk: Desk) -> None:
    await desk.sign_in("demo-coordinator")
    hidden = await desk.form("/forms/meeting")
    more = await desk.post(
        "/forms/meeting", hidden, rows="2", action="more", title_en="Kept", **{"c1-due_on": "x"}
    )
    assert more.status_code == 200
    assert _value(more.text, "title_en") == "Kept"
    assert 'name="c2-due_on"' in more.text


async def test_commitments_are_marked_by_their_owner_and_withdrawn_by_coordinators(
    desk: Desk,
) -> None:
    await desk.sign_in("demo-coordinator")
    listing = await desk.client.get(
        "/v1/reports/commitments?status=open",
        headers={"Authorization": f"Bearer {desk.tokens['demo-coordinator']}"},
    )
    rows = [r for r in listing.json()["rows"] if r["owner_partner_id"] == "nrc"]
    commitment = rows[0]["commitment_id"]
    await desk.sign_in("demo-nrc")
    page = await desk.client.get(f"/forms/commitments/{commitment}")
    assert page.status_code == 200
    assert 'id="withdraw-form"' not in page.text
    form = re.search(r'id="progress-form".*?</form>', page.text, re.S)
    assert form
    hidden = {"_csrf_token": _csrf(page.text), "form_id": _form_id(form.group(0))}
    bad = await desk.post(
        f"/forms/commitments/{commitment}/progress", hidden, note="Half", percent="140"
    )
    assert bad.status_code == 422 and _error(bad.text, "percent")
    ok = await desk.post(
        f"/forms/commitments/{commitment}/progress", hidden, note="Half", percent="۵۰"
    )
    assert ok.status_code == 201, ok.text
    refused = await desk.post(f"/forms/commitments/{commitment}/withdraw", hidden, reason="x")
    assert refused.status_code == 403
    await desk.sign_in("demo-ayandeh")
    assert (await desk.client.get(f"/forms/commitments/{commitment}")).status_code == 403


async def test_a_coordinator_locks_and_unlocks_a_month_in_the_pages_calendar(desk: Desk) -> None:
    await desk.sign_in("demo-coordinator", "fa")
    hidden = await desk.form("/forms/periods")
    locked = await desk.post(
        "/forms/periods", hidden, month="۱۴۰۳-۰۲", lock_action="lock", reason="بسته شد"
    )
    assert locked.status_code == 201, locked.text
    page = await desk.client.get("/forms/periods")
    assert 'data-month="1403-02" data-calendar="jalali"' in page.text
    hidden = await desk.form("/forms/periods")
    twice = await desk.post(
        "/forms/periods", hidden, month="1403/2", lock_action="lock", reason="again"
    )
    assert twice.status_code == 422
    assert _error(twice.text, "month") == "این ماه پیش‌تر قفل شده است."
    unlocked = await desk.post(
        "/forms/periods", hidden, month="1403/2", lock_action="unlock", reason="reopened"
    )
    assert unlocked.status_code == 201


async def test_auditors_see_no_forms(desk: Desk) -> None:
    await desk.sign_in("demo-auditor")
    for path in ("/forms", "/forms/delivery", "/forms/meeting", "/forms/periods", "/upload"):
        assert (await desk.client.get(path)).status_code == 403, path
    overview = await desk.client.get("/")
    assert 'href="/forms"' not in overview.text


# --- the upload page ------------------------------------------------------------------

UPLOAD_HEADER = "Site,Sector,Activity,Period start,Period end,women,men,girls,boys\r\n"


def sheet(*rows: str) -> bytes:
    return (UPLOAD_HEADER + "".join(row + "\r\n" for row in rows)).encode()


async def _upload(desk: Desk, body: bytes, name: str = "month.csv") -> Any:
    page = await desk.client.get("/upload")
    assert page.status_code == 200
    return await desk.client.post(
        "/upload",
        data={"_csrf_token": _csrf(page.text), "type": "ServiceDelivered"},
        files={"file": (name, body, "text/csv")},
    )


def _confirm_fields(text: str) -> dict[str, str]:
    form = re.search(r'id="confirm-form".*?</form>', text, re.S)
    assert form, "no confirm form"
    return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', html.unescape(form.group(0))))


async def test_an_upload_previews_errors_in_place_then_confirms_exactly_the_file_previewed(
    desk: Desk,
) -> None:
    await desk.sign_in("demo-nrc")
    before = await desk.head()
    bad = sheet(
        "gol-tappeh,education,Upload classes,2025-02-01,2025-02-28,1,2,3,4",
        "gol-tappeh,education,Upload classes B,2025/02/31,2025-02-28,1,2,3,4",
        "nowhere,education,Upload classes C,2025-02-01,2025-02-28,1,2,3,4",
    )
    preview = await _upload(desk, bad)
    assert preview.status_code == 422
    assert 'data-cell="D3" class="bad"' in preview.text  # the date that does not exist
    # a rule of the log (the site is not registered) marks its row
    assert 'data-row="4" class="has-error"' in preview.text
    assert 'data-rule="unknown-site"' in preview.text
    assert 'id="confirm-form"' not in preview.text
    good = sheet(
        "gol-tappeh,education,Upload classes,2025-02-01,2025-02-28,1,2,3,4",
        "gol-tappeh,education,Upload classes B,2025-02-01,2025-02-27,5,6,7,8",
    )
    preview = await _upload(desk, good)
    assert preview.status_code == 200, preview.text
    assert 'data-new="2"' in preview.text
    assert await desk.head() == before
    fields = _confirm_fields(preview.text)
    # another file under the seal of this one is refused, and so is an old seal
    swapped = {**fields, "file": fields["file"][:-4] + "AAAA"}
    assert (await desk.client.post("/upload/confirm", data=swapped)).status_code == 400
    confirmed = await desk.client.post("/upload/confirm", data=fields)
    assert confirmed.status_code == 201, confirmed.text
    assert await desk.head() == before + 2
    # the same file again: nothing to record, and confirming the old preview adds nothing
    again = await _upload(desk, good)
    assert 'data-unchanged="2"' in again.text and 'id="nothing-new"' in again.text
    replayed = await desk.client.post("/upload/confirm", data=fields)
    assert replayed.status_code == 200
    assert await desk.head() == before + 2


async def test_an_upload_that_is_not_a_spreadsheet_is_a_clear_4xx(desk: Desk) -> None:
    await desk.sign_in("demo-nrc")
    before = await desk.head()
    for body, name in ((b"\x00\x01garbage", "month.xlsx"), (b"hello", "notes.txt")):
        refused = await _upload(desk, body, name)
        assert refused.status_code == 400, refused.text
        assert 'id="upload-error"' in refused.text
    assert await desk.head() == before
