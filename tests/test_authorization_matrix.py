"""Every route of the app × every kind of caller, with the expected answer in one table.

The routes come from the app itself (its route table, which holds every path of the
OpenAPI document and every dashboard page); a route without a row, or a row without a
route, fails the suite. The callers: no credentials, a garbage token, a revoked token,
each role, and a partner (nrc) both on its own objects and on another partner's
(ayandeh's, or one that does not exist: authorization comes before existence). Pages
get the caller's session cookie as well as its bearer token, so a page that took a
token, or an API route that took a session, would show here.

One app and one database with the demo record for the module; the requests run in
order and take a few seconds."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth.tokens import issue, revoke
from server.cli.demo import load
from server.config import Settings
from server.demo import MEETING, uid
from tests.builders import BUILDERS
from tests.conftest import cloned_database

CALLERS = (
    "none",
    "garbage",
    "revoked",
    "admin",
    "coordinator",
    "auditor",
    "partner",  # nrc, on its own objects
    "other_partner",  # nrc again, on another partner's objects
)
# litestar answers OPTIONS for every route itself, and HEAD with GET's handler
IMPLICIT_METHODS = frozenset({"OPTIONS", "HEAD"})

NRC_PLEDGE = "pledge-" + uid("pledge:nrc-education")
AYANDEH_PLEDGE = "pledge-" + uid("pledge:ayandeh-cancelled")
NO_MEETING = str(uuid.UUID(int=7))
NRC_DELIVERY = uid("delivery:nrc:gol-tappeh:livelihoods:2026-06")
AYANDEH_DELIVERY = uid("delivery:ayandeh:gol-tappeh:psychosocial:2026-06")
NRC_COMMITMENT = uid("commitment:nrc-classes")
DIRECTORATE_COMMITMENT = uid("commitment:directorate-cards")
STATIC_FILE = "app.css"

Expected = int | frozenset[int]
SIGNED = frozenset({200, 201})  # a checkpoint: new (201) or the latest again (200)


@dataclass(frozen=True)
class Row:
    """How to call one route, and what each caller gets. `other` is the same call on
    another partner's objects, made by the partner's token (None: nothing there is a
    partner's, so the same call)."""

    url: str
    expected: dict[str, Expected]
    other: str | None = None
    # the body, given the partner it is for: JSON, or (media type, bytes) for a file
    body: Callable[[str], dict[str, Any] | tuple[str, bytes]] | None = field(
        default=None, compare=False
    )


def api(
    admin: Expected,
    coordinator: Expected,
    auditor: Expected,
    partner: Expected,
    other_partner: Expected | None = None,
) -> dict[str, Expected]:
    """A bearer-token route: without a valid token, 401."""
    return {
        "none": 401,
        "garbage": 401,
        "revoked": 401,
        "admin": admin,
        "coordinator": coordinator,
        "auditor": auditor,
        "partner": partner,
        "other_partner": partner if other_partner is None else other_partner,
    }


def everyone(status: Expected = 200) -> dict[str, Expected]:
    """A public route: no token needed, and a bad one is not looked at."""
    return dict.fromkeys(CALLERS, status)


def page(
    coordinator: Expected,
    auditor: Expected,
    partner: Expected,
    other_partner: Expected | None = None,
) -> dict[str, Expected]:
    """A dashboard page: without a live session (an admin cannot have one), 303 to the
    sign-in page; a bearer token opens nothing here."""
    return {
        "none": 303,
        "garbage": 303,
        "revoked": 303,
        "admin": 303,
        "coordinator": coordinator,
        "auditor": auditor,
        "partner": partner,
        "other_partner": partner if other_partner is None else other_partner,
    }


def challenges_file(partner_id: str) -> tuple[str, bytes]:
    """A spreadsheet of one challenge, as a partner's or a coordinator's import sends it."""
    rows = f"partner_id,site_id,sector,description\n{partner_id},gol-tappeh,education,Transport\n"
    return "text/csv", rows.encode()


def challenge(partner_id: str) -> dict[str, Any]:
    data = BUILDERS["ChallengeReported"](partner_id=partner_id, site_id="gol-tappeh")
    return {"type": "ChallengeReported", "id": str(uuid.uuid4()), "data": data}


READERS = api(200, 200, 200, 200)
OVERSEERS = api(200, 200, 200, 403)

# (method, path as the route table writes it, parameters without their types) -> row
TABLE: dict[tuple[str, str], Row] = {
    # operations and the contract: public
    ("GET", "/health"): Row("/health", everyone()),
    ("GET", "/ready"): Row("/ready", everyone()),
    ("GET", "/metrics"): Row("/metrics", everyone()),
    ("GET", "/v1/codes"): Row("/v1/codes", everyone()),
    ("GET", "/v1/codes/{name}"): Row("/v1/codes/sectors", everyone()),
    ("GET", "/v1/schemas"): Row("/v1/schemas", everyone()),
    ("GET", "/v1/schemas/{type_name}"): Row("/v1/schemas/ServiceDelivered", everyone()),
    ("GET", "/v1/audit/checkpoint"): Row("/v1/audit/checkpoint", everyone()),
    ("GET", "/v1/audit/public-key"): Row("/v1/audit/public-key", everyone()),
    ("GET", "/schema"): Row("/schema", everyone()),
    ("GET", "/schema/openapi.json"): Row("/schema/openapi.json", everyone()),
    ("GET", "/schema/openapi.yaml"): Row("/schema/openapi.yaml", everyone()),
    ("GET", "/schema/openapi.yml"): Row("/schema/openapi.yml", everyone()),
    ("GET", "/schema/swagger"): Row("/schema/swagger", everyone()),
    ("GET", "/schema/elements"): Row("/schema/elements", everyone()),
    ("GET", "/schema/redoc"): Row("/schema/redoc", everyone()),
    ("GET", "/schema/rapidoc"): Row("/schema/rapidoc", everyone()),
    ("GET", "/schema/oauth2-redirect.html"): Row("/schema/oauth2-redirect.html", everyone()),
    ("GET", "/schema/{path}"): Row("/schema/no-such-renderer", everyone(404)),
    # writing: a challenge is the partner's own or the coordinator's to record
    ("POST", "/v1/events"): Row(
        "/v1/events",
        api(admin=403, coordinator=201, auditor=403, partner=201, other_partner=403),
        other="/v1/events",
        body=challenge,
    ),
    # spreadsheets: a template for anyone signed in; an import (a dry run here) for
    # those who may post the type, of their own rows
    ("GET", "/v1/imports/templates/{type_name}"): Row(
        "/v1/imports/templates/ChallengeReported?format=csv", READERS
    ),
    ("POST", "/v1/imports"): Row(
        "/v1/imports?type=ChallengeReported&dry_run=true",
        api(admin=403, coordinator=200, auditor=403, partner=200, other_partner=403),
        other="/v1/imports?type=ChallengeReported&dry_run=true",
        body=challenges_file,
    ),
    # reading the log and streams
    ("GET", "/v1/events"): Row("/v1/events?limit=5", OVERSEERS),
    ("GET", "/v1/streams/{stream}/events"): Row(
        f"/v1/streams/{NRC_PLEDGE}/events",
        api(200, 200, 200, 200, other_partner=403),
        other=f"/v1/streams/{AYANDEH_PLEDGE}/events",
    ),
    ("GET", "/v1/streams/{stream}"): Row(
        f"/v1/streams/{NRC_PLEDGE}",
        api(200, 200, 200, 200, other_partner=403),
        other=f"/v1/streams/{AYANDEH_PLEDGE}",
    ),
    # reports: shared, but a partner's record is its own
    ("GET", "/v1/reports/who-what-where"): Row("/v1/reports/who-what-where", READERS),
    ("GET", "/v1/reports/deliveries"): Row("/v1/reports/deliveries", READERS),
    ("GET", "/v1/reports/pledges"): Row("/v1/reports/pledges", READERS),
    ("GET", "/v1/reports/progress"): Row("/v1/reports/progress", READERS),
    ("GET", "/v1/reports/commitments"): Row("/v1/reports/commitments", READERS),
    ("GET", "/v1/reports/partners/{partner_id}"): Row(
        "/v1/reports/partners/nrc",
        api(200, 200, 200, 200, other_partner=403),
        other="/v1/reports/partners/ayandeh",
    ),
    # an attestation of a shared report is shared; of a partner's record, that partner's
    # (a partner asking for another's gets 404, as for a code never issued: the code is
    # the only name it has, so there is nothing to refuse before looking it up)
    ("GET", "/v1/reports/attestations/{code}"): Row(
        "/v1/reports/attestations/AAAA-AAAA-AAAA-AAAA", api(404, 404, 404, 404)
    ),
    # the verify page: what a code attests, for whoever may read that report
    ("GET", "/verify"): Row("/verify", page(200, 200, 200)),
    # operating projections
    ("GET", "/v1/admin/projections"): Row("/v1/admin/projections", OVERSEERS),
    ("POST", "/v1/admin/projections/{name}/rebuild"): Row(
        "/v1/admin/projections/directory/rebuild", api(202, 403, 403, 403)
    ),
    # auditing
    ("GET", "/v1/audit/checkpoints"): Row("/v1/audit/checkpoints", READERS),
    ("POST", "/v1/audit/checkpoints"): Row("/v1/audit/checkpoints", api(SIGNED, 403, SIGNED, 403)),
    ("GET", "/v1/audit/proofs/inclusion"): Row(
        "/v1/audit/proofs/inclusion?position=1&size=2", READERS
    ),
    # public, so that a witness needs nothing but its key (docs/auditor-guide.md)
    ("GET", "/v1/audit/proofs/consistency"): Row(
        "/v1/audit/proofs/consistency?from=1&to=2", everyone()
    ),
    ("GET", "/v1/audit/witnesses"): Row("/v1/audit/witnesses", READERS),
    # a witness's signature is its credential, never a token: a JSON body is no
    # cosignature for anyone (tests/audit/test_witness_submissions.py holds the rest)
    ("POST", "/v1/audit/cosignatures"): Row(
        "/v1/audit/cosignatures", everyone(415), body=challenge
    ),
    ("GET", "/v1/audit/export"): Row("/v1/audit/export?from=1&to=3", OVERSEERS),
    # the dashboard: signing in takes the caller's token in the form
    ("GET", "/sign-in"): Row("/sign-in", everyone(200)),
    ("POST", "/sign-in"): Row(
        "/sign-in",
        {**page(303, 303, 303), "none": 401, "garbage": 401, "revoked": 401, "admin": 401},
    ),
    ("POST", "/sign-out"): Row("/sign-out", everyone(303)),
    ("POST", "/language"): Row("/language", everyone(303)),
    ("GET", "/"): Row("/", page(200, 200, 200)),
    ("GET", "/who-what-where"): Row("/who-what-where", page(200, 200, 200)),
    ("GET", "/progress"): Row("/progress", page(200, 200, 200)),
    ("GET", "/pledges"): Row("/pledges", page(200, 200, 200)),
    ("GET", "/commitments"): Row("/commitments", page(200, 200, 200)),
    ("GET", "/audit"): Row("/audit", page(200, 200, 200)),
    # a partner's list of partners is its own record (a redirect there)
    ("GET", "/partners"): Row("/partners", page(200, 200, 303)),
    ("GET", "/partners/{partner_id}"): Row(
        "/partners/nrc", page(200, 200, 200, other_partner=403), other="/partners/ayandeh"
    ),
    # a meeting nrc attended; the other is none at all, and still 403, not 404
    ("GET", "/meetings/{meeting_id}"): Row(
        f"/meetings/{MEETING}",
        page(200, 200, 200, other_partner=403),
        other=f"/meetings/{NO_MEETING}",
    ),
    # shared like the 3W: every role, every partner
    ("GET", "/gaps"): Row("/gaps", page(200, 200, 200)),
    ("GET", "/trends"): Row("/trends", page(200, 200, 200)),
    ("GET", "/log"): Row("/log", page(200, 200, 403)),
    ("GET", "/log/{position}"): Row("/log/1", page(200, 200, 403)),
    ("GET", "/static/{file_path}"): Row(f"/static/{STATIC_FILE}", everyone(200)),
    # the forms: partners' and coordinators' own, none for auditors; a form sent without
    # the form_id it was drawn with is 400 (the matrix sends none) and appends nothing
    ("GET", "/forms"): Row("/forms", page(200, 403, 200)),
    ("GET", "/forms/delivery"): Row("/forms/delivery", page(403, 403, 200)),
    ("POST", "/forms/delivery"): Row("/forms/delivery", page(403, 403, 400)),
    ("GET", "/forms/deliveries/{delivery_id}"): Row(
        f"/forms/deliveries/{NRC_DELIVERY}",
        page(403, 403, 200, other_partner=403),
        other=f"/forms/deliveries/{AYANDEH_DELIVERY}",
    ),
    ("POST", "/forms/deliveries/{delivery_id}/correct"): Row(
        f"/forms/deliveries/{NRC_DELIVERY}/correct",
        page(403, 403, 400, other_partner=403),
        other=f"/forms/deliveries/{AYANDEH_DELIVERY}/correct",
    ),
    ("POST", "/forms/deliveries/{delivery_id}/retract"): Row(
        f"/forms/deliveries/{NRC_DELIVERY}/retract",
        page(403, 403, 400, other_partner=403),
        other=f"/forms/deliveries/{AYANDEH_DELIVERY}/retract",
    ),
    ("GET", "/forms/pledge"): Row("/forms/pledge", page(403, 403, 200)),
    ("POST", "/forms/pledge"): Row("/forms/pledge", page(403, 403, 400)),
    ("GET", "/forms/disbursement"): Row("/forms/disbursement", page(403, 403, 200)),
    ("POST", "/forms/disbursement"): Row("/forms/disbursement", page(403, 403, 400)),
    ("GET", "/forms/challenge"): Row("/forms/challenge", page(403, 403, 200)),
    ("POST", "/forms/challenge"): Row("/forms/challenge", page(403, 403, 400)),
    # a commitment: marked by its owner or a coordinator; another's is 403 before 404
    ("GET", "/forms/commitments/{commitment_id}"): Row(
        f"/forms/commitments/{NRC_COMMITMENT}",
        page(200, 403, 200, other_partner=403),
        other=f"/forms/commitments/{DIRECTORATE_COMMITMENT}",
    ),
    ("POST", "/forms/commitments/{commitment_id}/{action}"): Row(
        f"/forms/commitments/{NRC_COMMITMENT}/progress",
        page(400, 403, 400, other_partner=403),
        other=f"/forms/commitments/{DIRECTORATE_COMMITMENT}/progress",
    ),
    ("GET", "/forms/meeting"): Row("/forms/meeting", page(200, 403, 403)),
    ("POST", "/forms/meeting"): Row("/forms/meeting", page(400, 403, 403)),
    ("GET", "/forms/periods"): Row("/forms/periods", page(200, 403, 403)),
    ("POST", "/forms/periods"): Row("/forms/periods", page(400, 403, 403)),
    # the upload: without a file (the matrix sends none) 400; a confirm without the
    # seal of a preview 400
    ("GET", "/upload"): Row("/upload", page(200, 403, 200)),
    ("GET", "/upload/templates/{type_name}"): Row(
        "/upload/templates/ServiceDelivered?format=csv", page(200, 403, 200)
    ),
    ("POST", "/upload"): Row("/upload", page(400, 403, 400)),
    ("POST", "/upload/confirm"): Row("/upload/confirm", page(400, 403, 400)),
}


def route_keys(app: Litestar) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, parameters written without their types."""
    keys = set()
    for route in app.routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for method in getattr(route, "methods", ()):
            if method not in IMPLICIT_METHODS:
                keys.add((method, path))
    return keys


def openapi_keys(app: Litestar) -> set[tuple[str, str]]:
    paths = app.openapi_schema.to_schema()["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item}


def test_every_route_has_exactly_one_row() -> None:
    app = create_app(Settings(database_url="postgresql://unused/hamkari"))
    routes = route_keys(app)
    documented = openapi_keys(app)
    assert documented <= routes, f"in the OpenAPI document but not routed: {documented - routes}"
    missing = sorted(routes - TABLE.keys())
    stale = sorted(TABLE.keys() - routes)
    assert not missing, (
        f"routes without a row in tests/test_authorization_matrix.py TABLE: {missing}; "
        "add one saying what each caller gets"
    )
    assert not stale, f"rows for routes the app no longer has: {stale}"
    for key, row in TABLE.items():
        assert set(row.expected) == set(CALLERS), f"{key}: a status for every caller"


# --- the world the table is checked against -----------------------------------------


@dataclass
class World:
    client: AsyncTestClient[Litestar]
    tokens: dict[str, str | None]  # caller -> bearer token
    sessions: dict[str, str]  # caller -> its session cookies, as a Cookie header value
    csrf: tuple[str, str]  # (cookie, form token)


@pytest.fixture(scope="module")
async def matrix_database(pg_admin_dsn: str, template_database: str) -> AsyncIterator[str]:
    async with cloned_database(pg_admin_dsn, template_database, "matrix") as dsn:
        yield dsn


@pytest.fixture(scope="module")
def matrix_settings(matrix_database: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("matrix")
    return Settings(database_url=matrix_database, data_dir=str(data_dir))


@pytest.fixture(scope="module")
async def world(matrix_database: str, matrix_settings: Settings) -> AsyncIterator[World]:
    _, _, demo = await load(matrix_database, matrix_settings, {})
    conn = await asyncpg.connect(matrix_database)
    try:
        revoked = await issue(conn, name="matrix-revoked", role="coordinator")
        head = int(await conn.fetchval("SELECT last_position FROM log_head"))
    finally:
        await conn.close()
    tokens: dict[str, str | None] = {
        "none": None,
        "garbage": "hmk_" + "x" * 43,
        "revoked": revoked,
        "admin": demo["demo-admin"],
        "coordinator": demo["demo-coordinator"],
        "auditor": demo["demo-auditor"],
        "partner": demo["demo-nrc"],
        "other_partner": demo["demo-nrc"],
    }
    app = create_app(matrix_settings)
    # https: the dashboard's cookies are Secure
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        caught_up = await client.get(
            f"/v1/reports/partners/nrc?min_position={head}",
            headers={"Authorization": f"Bearer {tokens['coordinator']}"},
        )
        assert caught_up.status_code == 200, caught_up.text
        signed = await client.post(
            "/v1/audit/checkpoints", headers={"Authorization": f"Bearer {tokens['admin']}"}
        )
        assert signed.status_code in SIGNED, signed.text
        world = World(client, tokens, {"garbage": "hamkari_session=garbage"}, ("", ""))
        world.csrf = await csrf_pair(client)
        for caller in ("revoked", "coordinator", "auditor", "partner"):
            world.sessions[caller] = await sign_in(world, tokens[caller])
        world.sessions["other_partner"] = world.sessions["partner"]
        conn = await asyncpg.connect(matrix_database)
        try:
            await revoke(conn, "matrix-revoked")
        finally:
            await conn.close()
        yield world


async def csrf_pair(client: AsyncTestClient[Litestar]) -> tuple[str, str]:
    client.cookies.clear()
    page = await client.get("/sign-in")
    [token] = set(re.findall(r'name="_csrf_token" value="([^"]+)"', page.text))
    return page.cookies["hamkari_csrf"], token


async def sign_in(world: World, token: str | None) -> str:
    world.client.cookies.clear()
    cookie, form_token = world.csrf
    response = await world.client.post(
        "/sign-in",
        data={"token": token or "", "_csrf_token": form_token},
        headers={"Cookie": f"hamkari_csrf={cookie}"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return "; ".join(f"{k}={v}" for k, v in response.cookies.items() if k.startswith("hamkari_s"))


async def call(world: World, method: str, row: Row, caller: str) -> Any:
    """The route as `caller` calls it: its bearer token and its session, the CSRF pair
    on a form; nothing kept between calls."""
    client = world.client
    client.cookies.clear()
    url = row.other if caller == "other_partner" and row.other else row.url
    headers: dict[str, str] = {}
    token = world.tokens[caller]
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    cookie, form_token = world.csrf
    cookies = [f"hamkari_csrf={cookie}"]
    if caller in world.sessions:
        cookies.append(world.sessions[caller])
    headers["Cookie"] = "; ".join(cookies)
    if method == "GET":
        return await client.get(url, headers=headers, follow_redirects=False)
    if row.body is not None:
        partner = "ayandeh" if caller == "other_partner" else "nrc"
        body = row.body(partner)
        if isinstance(body, tuple):
            media_type, content = body
            headers["Content-Type"] = media_type
            return await client.post(url, content=content, headers=headers)
        return await client.post(url, json=body, headers=headers)
    if url.startswith("/v1/"):
        return await client.post(url, headers=headers)
    form = {"_csrf_token": form_token, "token": token or "", "lang": "en", "next": "/"}
    return await client.post(url, data=form, headers=headers, follow_redirects=False)


def cases() -> Iterator[Any]:
    for (method, path), row in TABLE.items():
        yield pytest.param(method, path, row, id=f"{method} {path}")


@pytest.mark.parametrize(("method", "path", "row"), list(cases()))
async def test_each_caller_gets_what_the_table_says(
    world: World, method: str, path: str, row: Row
) -> None:
    got: dict[str, int] = {}
    for caller in CALLERS:
        response = await call(world, method, row, caller)
        got[caller] = response.status_code
    wrong = {
        caller: (got[caller], expected)
        for caller, expected in row.expected.items()
        if got[caller] not in (expected if isinstance(expected, frozenset) else {expected})
    }
    assert not wrong, f"{method} {path}: caller -> (got, expected): {wrong}"
