"""Schemathesis against the served OpenAPI: no input, generated or mangled, gets a 500.

A real `hamkari serve` over the demo data, so that generated reads meet real streams
and generated posts meet real aggregates. Examples are bounded and derandomized: the
run is the same on every machine and takes well under a minute."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.app import create_app
from server.config import Settings
from tests.conftest import LiveServer, cloned_database, load_demo


@pytest.fixture(scope="module")
async def fuzz_database(pg_admin_dsn: str, template_database: str) -> AsyncIterator[str]:
    async with cloned_database(pg_admin_dsn, template_database, "fuzz") as dsn:
        yield dsn


@pytest.fixture(scope="module")
def demo_server(
    fuzz_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    env = {**os.environ, "DATABASE_URL": fuzz_database, "HAMKARI_DATA_DIR": str(data_dir)}
    tokens = load_demo(env)
    server = LiveServer(env)
    server.start()
    try:
        yield server, tokens
    finally:
        server.stop()


def served_openapi() -> dict[str, Any]:
    """The document `GET /schema/openapi.json` serves (built without a database)."""
    app = create_app(Settings(database_url="postgresql://unused/hamkari"))
    return app.openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(served_openapi())


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gets_a_server_error(
    case: Any, demo_server: tuple[LiveServer, dict[str, str]]
) -> None:
    """As admin (who may post anything): every response is a documented non-5xx one."""
    server, tokens = demo_server
    response = case.call(
        base_url=server.url, headers={"Authorization": f"Bearer {tokens['demo-admin']}"}
    )
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
    case.validate_response(
        response,
        checks=(status_code_conformance, content_type_conformance, response_schema_conformance),
    )
