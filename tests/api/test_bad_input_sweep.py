"""The bad-input sweep: every operation of the served OpenAPI document × every hostile
value its parameters and body can carry gets a 400 problem, and the log does not move.

Generated from the document, so a new route, parameter or body is swept without a new
row: a NUL in each string parameter, positions past 2^53-1 and below their minimum, a
timestamp without a time zone, and bodies that are not UTF-8 or nest too deeply."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from schemas.common import MAX_SAFE_INT
from server.app import create_app
from server.auth.tokens import issue
from server.config import Settings
from tests.api.conftest import ROLES, Api, bearer
from tests.api.test_bad_input import assert_problem
from tests.conftest import cloned_database

INT64_PAST = 2**63
DEEP = 1200


def openapi() -> dict[str, Any]:
    app = create_app(Settings(database_url="postgresql://unused/hamkari"))
    return app.openapi_schema.to_schema()


DOCUMENT = openapi()


def _schema(parameter: dict[str, Any]) -> dict[str, Any]:
    """The parameter's schema without its `null` branch (optional parameters)."""
    schema: dict[str, Any] = dict(parameter.get("schema", {}))
    for key in ("oneOf", "anyOf"):
        if key in schema:
            branches = [s for s in schema.pop(key) if s.get("type") != "null"]
            if len(branches) == 1:
                # bounds may sit beside the oneOf, where they apply to its integer branch
                return {**schema, **branches[0]}
    return schema


def _valid(parameter: dict[str, Any]) -> str:
    """A value the parameter takes, for the parameters a case does not aim at."""
    schema = _schema(parameter)
    if schema.get("type") == "integer":
        return str(max(1, int(schema.get("minimum", 1))))
    return "1"


@dataclass
class Case:
    operation: str
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    not_found: bool = False

    @property
    def id(self) -> str:
        return self.operation


def hostile_values(parameter: dict[str, Any]) -> Iterator[tuple[str, str]]:
    schema = _schema(parameter)
    kind = schema.get("type")
    if kind == "string" or "enum" in schema:
        yield "nul", "nul\x00byte"
        if schema.get("format") == "date-time":
            yield "no-time-zone", "2025-10-01T08:00:00"
    elif kind == "integer":
        yield "past-int64", str(INT64_PAST)
        yield "past-2^53", str(MAX_SAFE_INT + 1)
        if "minimum" in schema:
            yield "below-minimum", str(int(schema["minimum"]) - 1)


def cases() -> Iterator[Any]:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            op_id = operation.get("operationId", f"{method} {path}")
            parameters = operation.get("parameters", [])
            required = {
                p["name"]: _valid(p)
                for p in parameters
                if p.get("required") and p["in"] in ("query", "path")
            }
            for parameter in parameters:
                for why, value in hostile_values(parameter):
                    values = {**required, parameter["name"]: value}
                    case = _case(op_id, method, path, parameters, values)
                    # a path parameter of free shape names a thing that may not be there
                    # (404); one with a pattern or a list of values is refused (400)
                    shape = _schema(parameter)
                    case.not_found = parameter["in"] == "path" and not (
                        "pattern" in shape or "enum" in shape
                    )
                    yield pytest.param(case, id=f"{op_id}-{parameter['name']}-{why}")
            if "requestBody" in operation:
                bodies = {
                    "not-utf-8": b'{"type": "PartnerRegistered", "data": {"partner_id": "a\xff"}}',
                    "deep-in-unknown-field": (
                        b'{"x": ' + b"[" * DEEP + b"]" * DEEP + b', "type": "PartnerRegistered"}'
                    ),
                    "deep-in-a-batch": b'[{"x": ' + b"[" * DEEP + b"]" * DEEP + b"}]",
                }
                for why, body in bodies.items():
                    case = _case(op_id, method, path, parameters, dict(required))
                    case.body = body
                    yield pytest.param(case, id=f"{op_id}-body-{why}")


def _case(
    op_id: str, method: str, path: str, parameters: list[dict[str, Any]], values: dict[str, str]
) -> Case:
    case = Case(op_id, method.upper(), path)
    for parameter in parameters:
        name = parameter["name"]
        if name not in values:
            continue
        if parameter["in"] == "path":
            case.path = case.path.replace("{" + name + "}", quote(values[name], safe=""))
        elif parameter["in"] == "query":
            case.query[name] = values[name]
        elif parameter["in"] == "header":
            case.headers[name] = values[name]
    return case


def who(case: Case) -> str:
    # a role that may call the operation: the input is what is refused, not the caller
    return "admin" if case.method != "GET" else "auditor"


async def log_head(database_url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(database_url)
    try:
        head = await conn.fetchval("SELECT last_position FROM log_head")
        count = await conn.fetchval("SELECT count(*) FROM events")
        return int(head), int(count)
    finally:
        await conn.close()


def test_the_sweep_reaches_every_kind_of_input() -> None:
    """The sweep is not empty: the kinds of input the contract names are all in it."""
    ids = [p.id for p in cases()]
    for expected in (
        "readStream-stream-nul",
        "reportWhoWhatWhere-site-nul",
        "readLog-Last-Event-ID-past-int64",
        "streamState-as_of-no-time-zone",
        "auditCheckpoints-after-below-minimum",
        "postEvents-body-not-utf-8",
        "postEvents-body-deep-in-unknown-field",
    ):
        assert expected in ids, expected


@pytest.fixture(scope="module")
async def sweep_database(pg_admin_dsn: str, template_database: str) -> AsyncIterator[str]:
    async with cloned_database(pg_admin_dsn, template_database, "sweep") as dsn:
        yield dsn


@pytest.fixture(scope="module")
async def sweep_api(
    sweep_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    """One app over one database for the whole sweep: nothing it sends may change either."""
    settings = Settings(database_url=sweep_database, data_dir=str(tmp_path_factory.mktemp("sweep")))
    conn = await asyncpg.connect(sweep_database)
    try:
        tokens = {
            name: await issue(conn, name=f"sweep-{name}", role=role, partner_id=partner)
            for name, (role, partner) in ROLES.items()
        }
    finally:
        await conn.close()
    async with AsyncTestClient(create_app(settings)) as client:
        api = Api(client, tokens)
        await api.setup_world()
        yield api


@pytest.mark.parametrize("case", list(cases()))
async def test_hostile_input_gets_a_problem_and_moves_nothing(
    sweep_api: Api, sweep_database: str, case: Case
) -> None:
    before = await log_head(sweep_database)
    assert before[0] > 0
    headers = {**bearer(sweep_api.tokens[who(case)]), **case.headers}
    if case.body is not None:
        headers["content-type"] = "application/json"
    response = await sweep_api.client.request(
        case.method, case.path, params=case.query, headers=headers, content=case.body
    )
    # 400; 404 for a name looked up in a fixed list (an event type, a code list, a
    # projection), as for any unknown one
    assert_problem(response, 404 if case.not_found else 400)
    assert await log_head(sweep_database) == before
