"""Stop PostgreSQL under load and start it again: clients get 503 with Retry-After, never
a 500; the server recovers by itself, without a restart; nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.database.embedded import EmbeddedPostgres
from server.database.runtime import ensure_database, with_database
from tests.conftest import hamkari
from tests.faults.harness import (
    Load,
    Server,
    acknowledged,
    assert_nothing_acknowledged_lost,
    assert_projections_equal_a_rebuild,
    issue_tokens,
    set_up_world,
)
from tests.waiting import until

pytestmark = pytest.mark.slow


@pytest.fixture
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL this test alone may stop (a short path keeps its socket beside it)."""
    root = Path(tempfile.mkdtemp(prefix="hk-", dir="/tmp"))
    cluster = EmbeddedPostgres(root / "pgdata")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()
        root.rmdir()


async def test_postgres_stopped_and_started_under_load(
    own_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:
    await ensure_database(own_postgres.dsn(), "hamkari")
    owner_dsn = with_database(own_postgres.dsn(), "hamkari")
    env = {**os.environ, "DATABASE_URL": owner_dsn, "HAMKARI_DATA_DIR": str(tmp_path)}
    migrated = await asyncio.to_thread(hamkari, "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    tokens = await issue_tokens(owner_dsn)
    server = Server(env, "--workers", "2", log_dir=tmp_path)
    server.start()
    try:
        await set_up_world(server.url, tokens)
        load = Load(server.url, tokens)
        load.start()
        before = await acknowledged(load, 20)  # the load has got going
        await asyncio.to_thread(own_postgres.stop, "fast")
        await until(lambda: load.tally.statuses[503] > 0, 30, what="a client saw the outage")
        during = dict(load.tally.statuses)
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.get("/ready")).status_code == 503
            assert (await client.get("/health")).status_code == 200
            metrics = await client.get("/metrics")
            assert metrics.status_code == 200
            assert "hamkari_database_up 0.0" in metrics.text
        await asyncio.to_thread(own_postgres.start)
        await acknowledged(load, before + 20)  # writes resume after the outage
        tally = await load.stop()

        assert during.get(503, 0) > 0, f"no client saw the outage: {during}"
        assert tally.retry_after_missing == 0
        assert not [s for s in tally.statuses if s >= 500 and s != 503], tally.statuses
        assert not tally.unexpected, tally.unexpected[:5]
        async with httpx.AsyncClient(base_url=server.url) as client:

            async def ready() -> bool:
                return (await client.get("/ready")).status_code == 200

            await until(ready, 30, what="/ready 200 again")
        await assert_nothing_acknowledged_lost(owner_dsn, tally.acknowledged)
        await assert_projections_equal_a_rebuild(server, tokens, env)
        assert server.process is not None and server.process.poll() is None, "server restarted"
    finally:
        await asyncio.to_thread(server.stop)
