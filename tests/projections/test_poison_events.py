"""The poison-event test: whatever text an older version let into the log, nothing stops.

Hypothesis picks texts (every refused class, ZWNJ, RLM, Persian and Arabic letters,
emoji, 4,000-character strings, any other code point); each round writes a record in
which every free-text field of every event type holds them straight into the log, below
the API, as an older version could have. Then every projection, a rebuild of each,
every report in JSON, CSV and HXL (live and `?at_position`), every dashboard page, the
streams and their time travel, a post onto a poisoned stream, the export and
`hamkari audit verify`: nothing stops, nothing answers 500, every stored entry still
re-hashes and is RFC 8785 canonical (checked with the independent `rfc8785`)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
import rfc8785
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient

from schemas.events import EVENT_TYPES, stream_of
from schemas.stored import StoredDecoder
from schemas.text import refused_characters, storable
from server.app import create_app
from server.auth.tokens import issue
from server.config import Settings
from server.database.pool import create_pool
from server.eventstore import Appender, EventStore, Metadata, NewEvent, canonical_json
from server.projections.catalog import PROJECTIONS
from server.projections.rebuild import rebuild
from server.projections.runner import ProjectionRunner, ProjectionStopped
from tests.api.conftest import bearer
from tests.conftest import hamkari
from tests.text_cases import ACCEPTED, REFUSED
from tests.text_world import BASE, world

ROLES = {
    "admin": ("admin", None),
    "coordinator": ("coordinator", None),
    "auditor": ("auditor", None),
    "nrc": ("partner", "nrc"),
}
REPORTS = [
    "/v1/reports/who-what-where",
    "/v1/reports/deliveries?group_by=partner,site,sector,month",
    "/v1/reports/pledges",
    "/v1/reports/commitments",
    "/v1/reports/partners/nrc",
]
_DECODERS = {name: StoredDecoder(cls) for name, cls in EVENT_TYPES.items()}

REFUSED_CHARS = [c for chars in REFUSED.values() for c in chars]
ODD_CHARS = ["\u200c", "\u200d", "\u200e", "\u200f", "\ufffd", "👩", "🏫", "\n", "\t", "\r"]
TEXT = st.one_of(
    st.text(
        alphabet=st.one_of(
            st.sampled_from(REFUSED_CHARS + ODD_CHARS),
            st.characters(min_codepoint=0x600, max_codepoint=0x6FF),  # Persian, Arabic
            st.characters(exclude_categories=("Cs",)),  # any code point but surrogates
        ),
        max_size=40,
    ),
    st.sampled_from(["\x00" * 4000, "ن\u200c" * 2000, "a" * 3999 + "\u202e"]),
)
#: one explicit round holding every refused class and every accepted oddity
EVERY_CASE = [f"a{''.join(chars)}b" for chars in REFUSED.values()] + list(ACCEPTED.values())


class Round:
    """One round: the app, its tokens, and the texts written this time."""

    def __init__(self, client: AsyncTestClient[Litestar], tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    async def get(self, who: str, url: str, **kwargs: Any) -> Any:
        response = await self.client.get(url, headers=bearer(self.tokens[who]), **kwargs)
        assert response.status_code == 200, (url, response.status_code, response.text[:500])
        return response


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def raw_event(who: str, type_name: str, data: dict[str, Any], event_id: str) -> NewEvent:
    """The event as an older version appended it: the canonical bytes of what was posted,
    no rule and no text check on the way."""
    raw = canonical_json(data)
    decoded = _DECODERS[type_name].decode(raw)
    role, partner = ROLES[who]
    return NewEvent(
        id=uuid.UUID(event_id),
        type=type_name,
        stream=stream_of(type_name, decoded),
        data=raw,
        metadata=Metadata(principal=f"test-{who}", role=role, partner_id=partner),
    )


async def write_worlds(store: EventStore, texts: list[str]) -> list[tuple[str, str, str]]:
    """Append one world per text straight into the log; (stream, text, tag) of each."""
    events = []
    if await store.head() == 0:
        events += [raw_event(w, t, d, str(uuid.uuid4())) for w, t, d in BASE]
    written = []
    for text in texts:
        tag = uuid.uuid4().hex[:8]
        for who, type_name, data, event_id in world(text, tag):
            event = raw_event(who, type_name, data, event_id)
            events.append(event)
            written.append((event.stream, text, tag))
    await store.append(events)
    return written


async def check_projections(pool: asyncpg.Pool, head: int) -> None:
    """Every projection reaches the head with no error, and rebuilds from position 0."""
    for projection in PROJECTIONS.values():
        runner = ProjectionRunner(pool, projection, snapshot_every=None)
        try:
            await runner.catch_up()
        except ProjectionStopped as stopped:
            pytest.fail(f"{projection.name} stopped: {stopped}")
    rows = await pool.fetch("SELECT name, position, error FROM projections")
    assert {(r["name"], r["position"], r["error"]) for r in rows} == {
        (name, head, None) for name in PROJECTIONS
    }
    swapped = await rebuild(pool, PROJECTIONS.values())
    assert set(swapped.values()) == {head}


async def check_reports(r: Round, head: int, texts: list[str]) -> None:
    for url in REPORTS:
        sep = "&" if "?" in url else "?"
        for query in (f"min_position={head}", f"at_position={head}", "format=csv", "format=hxl"):
            response = await r.get("coordinator", f"{url}{sep}{query}")
            assert refused_characters(response.text) == [], (url, query)
        report = (await r.get("coordinator", f"{url}{sep}min_position={head}")).json()
        assert report["as_of_position"] >= head
    record = (await r.get("coordinator", "/v1/reports/partners/nrc")).json()
    shown = set(_strings(record))
    for text in texts:
        if text.strip() and storable(text).strip():
            assert storable(text) in shown, ascii(text)[:80]


async def check_pages(r: Round, written: list[tuple[str, str, str]], head: int) -> None:
    tags = sorted({tag for _s, _t, tag in written})
    meetings = [s.removeprefix("meeting-") for s, _t, _g in written if s.startswith("meeting-")]
    pages = ["/", "/who-what-where", "/pledges", "/commitments", "/partners", "/log", "/audit"]
    pages += ["/partners/nrc", *(f"/partners/o-{tag}" for tag in tags)]
    pages += [f"/meetings/{m}" for m in sorted(set(meetings))]
    # the receipt page of each event of one world: every type, with the text as stored
    first = head - len(written) + 1
    receipts = [f"/log/{p}" for p in range(first, first + len(written) // len(tags))]
    for who in ("coordinator", "auditor", "nrc"):
        r.client.cookies.clear()
        csrf = (await r.client.get("/sign-in")).cookies["hamkari_csrf"]
        signed = await r.client.post(
            "/sign-in",
            data={"token": r.tokens[who]},
            headers={"x-csrftoken": csrf},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        seen = {"coordinator": pages, "auditor": pages + receipts}.get(who)
        for page in seen or ["/", "/partners/nrc", "/who-what-where"]:
            response = await r.client.get(page)
            assert response.status_code == 200, (who, page, response.text[:300])
    r.client.cookies.clear()


async def check_streams(r: Round, written: list[tuple[str, str, str]], head: int) -> None:
    for stream in sorted({s for s, _t, _g in written}):
        await r.get("auditor", f"/v1/streams/{stream}/events")
        await r.get("auditor", f"/v1/streams/{stream}?at_position={head}")
    # a decision replays the poisoned stream: the aggregate reads what the log holds
    delivery = next(s for s, _t, _g in written if s.startswith("delivery-"))
    data = {"delivery_id": delivery.removeprefix("delivery-"), "sector": "health", "reason": "R"}
    body = {"type": "DeliveryCorrected", "data": data}
    posted = await r.client.post("/v1/events", json=body, headers=bearer(r.tokens["nrc"]))
    assert posted.status_code == 201, posted.text


async def check_audit(r: Round, env: dict[str, str], tmp: Path, head: int) -> None:
    export = (await r.get("auditor", "/v1/audit/export")).content
    lines = [json.loads(line) for line in export.splitlines() if line.strip()]
    assert len(lines) >= head
    for line in lines:
        entry = base64.b64decode(line["entry"])
        assert hashlib.sha256(b"\x00" + entry).digest() == base64.b64decode(line["leaf_hash"])
        assert rfc8785.dumps(json.loads(entry)) == entry, line["position"]
        data = json.loads(entry)["data"]
        assert rfc8785.dumps(data) == canonical_json(msgspec.json.decode(entry)["data"])
    signed = await asyncio.to_thread(hamkari, "audit", "checkpoint", env=env)
    assert signed.returncode == 0, signed.stderr
    (tmp / "checkpoint.json").write_text(signed.stdout)
    key = await r.client.get(
        "/v1/audit/public-key",
        headers={**bearer(r.tokens["auditor"]), "Accept": "application/json"},
    )
    (tmp / "key.vkey").write_text(key.json()["vkey"])
    (tmp / "export.ndjson").write_bytes((await r.get("auditor", "/v1/audit/export")).content)
    args = [str(tmp / "export.ndjson"), "--checkpoint", str(tmp / "checkpoint.json")]
    verified = await asyncio.to_thread(
        hamkari, "audit", "verify", *args, "--public-key", str(tmp / "key.vkey"), env=env
    )
    assert verified.returncode == 0, verified.stderr + verified.stdout


async def poison_round(settings_: Settings, env: dict[str, str], texts: list[str]) -> None:
    # a pool and appender of this loop: the test client runs the app in a loop of its own
    pool = await create_pool(settings_.database_url, settings_, min_size=1, max_size=4)
    appender = Appender(pool)
    appender.start()
    try:
        store = EventStore(pool, appender)
        owner = await asyncpg.connect(settings_.database_url)
        try:
            tokens = {
                who: await issue(owner, name=f"poison-{who}-{uuid.uuid4().hex[:6]}",
                                 role=role, partner_id=partner)
                for who, (role, partner) in ROLES.items()
            }  # fmt: skip
        finally:
            await owner.close()
        written = await write_worlds(store, texts)
        head = await store.head()
        await check_projections(pool, head)
        async with AsyncTestClient(create_app(settings_)) as client:
            r = Round(client, tokens)
            await check_reports(r, head, texts)
            await check_pages(r, written, head)
            await check_streams(r, written, head)
            await check_audit(r, env, Path(settings_.data_dir), head + 1)
            ready = await client.get("/ready")
            assert ready.status_code == 200, ready.text
    finally:
        await appender.close()
        await pool.close()


@pytest.fixture
def poison_settings(database_url: str, tmp_path: Path) -> Settings:
    # the CLI's data directory (cli_env) is the app's, so both sign with one key
    return Settings(
        database_url=database_url,
        data_dir=str(tmp_path),
        web_secure_cookies=False,
        projections_run=False,
    )


@settings(
    max_examples=3,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(TEXT, min_size=1, max_size=3))
@example(texts=EVERY_CASE)
def test_no_text_in_the_log_stops_a_projection_a_report_a_page_or_the_audit(
    poison_settings: Settings, cli_env: dict[str, str], texts: list[str]
) -> None:
    # a loop of its own per example: hypothesis drives a plain function
    asyncio.run(poison_round(poison_settings, cli_env, texts))


# --- /ready -------------------------------------------------------------------------------


async def test_ready_is_503_while_a_projection_is_stopped_whatever_its_lag(
    database_url: str, tmp_path: Path, store: EventStore, pool: asyncpg.Pool
) -> None:
    settings_ = Settings(database_url=database_url, data_dir=str(tmp_path), projections_run=False)
    await store.append([raw_event(*BASE[0], str(uuid.uuid4()))])
    unreadable = NewEvent(
        id=uuid.uuid4(),
        type="ChallengeReported",
        stream=f"challenge-{uuid.uuid4()}",
        data=b'{"from": "a version this one does not know"}',
        schema_version=99,
    )
    await store.append([unreadable])
    with pytest.raises(ProjectionStopped):
        await ProjectionRunner(pool, PROJECTIONS["partner_record"]).catch_up()
    async with AsyncTestClient(create_app(settings_)) as client:
        response = await client.get("/ready")
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "stopped on an error: partner_record (at position 2)" in response.json()["detail"]
