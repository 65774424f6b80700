"""`hamkari serve --workers 2`: two processes share one database and one port; the log
stays gap-free under load, /metrics adds up what both workers counted, and a worker
that dies is replaced while the other serves on."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.faults.harness import (
    Load,
    Server,
    acknowledged,
    assert_nothing_acknowledged_lost,
    assert_projections_equal_a_rebuild,
    issue_tokens,
    set_up_world,
)
from tests.prometheus import sample, total
from tests.waiting import until

pytestmark = pytest.mark.slow


async def test_two_workers_share_the_log_and_the_metrics(
    database_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    tokens = await issue_tokens(database_url)
    server = Server({**cli_env, "HAMKARI_POOL_MAX": "7"}, "--workers", "2", log_dir=tmp_path)
    server.start()
    try:
        assert len(server.workers()) == 2
        await set_up_world(server.url, tokens)
        load = Load(server.url, tokens)
        load.start()
        await acknowledged(load, 100)
        tally = await load.stop()
        answered = sum(tally.statuses.values())
        assert not tally.unexpected, tally.unexpected[:5]
        assert set(tally.statuses) <= {200, 201}, tally.statuses
        await assert_nothing_acknowledged_lost(database_url, tally.acknowledged)
        await assert_projections_equal_a_rebuild(server, tokens, cli_env)

        # both workers' counts: one worker's alone would be about half. Each worker adds
        # its requests to the shared metrics every second (RequestTally)
        async with httpx.AsyncClient(base_url=server.url) as client:

            async def metrics() -> str | None:
                text = (await client.get("/metrics")).text
                counted = total(text, "hamkari_http_requests_total", exclude_route="/metrics")
                return text if counted >= answered else None

            text = await until(metrics, 10, what=f"{answered} requests counted", interval=0.2)
        assert sample(text, "hamkari_db_pool_max_connections") == 2 * 7
        assert sample(text, "hamkari_events_appended_total") >= len(tally.acknowledged)
    finally:
        await asyncio.to_thread(server.stop)


async def test_a_killed_worker_is_replaced_and_nothing_acknowledged_is_lost(
    database_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    tokens = await issue_tokens(database_url)
    server = Server({**cli_env, "HAMKARI_POOL_MAX": "7"}, "--workers", "2", log_dir=tmp_path)
    server.start()
    try:
        await set_up_world(server.url, tokens)
        first = set(server.workers())
        load = Load(server.url, tokens)
        load.start()
        before = await acknowledged(load, 50)
        victim = sorted(first)[0]
        os.kill(victim, signal.SIGKILL)
        await until(
            lambda: victim not in server.workers() and len(server.workers()) == 2,
            30,
            what="the killed worker replaced",
        )
        await acknowledged(load, before + 50)
        tally = await load.stop()
        now = set(server.workers())
        assert server.process is not None and server.process.poll() is None
        assert victim not in now and len(now) == 2, (first, now)
        assert not tally.unexpected, tally.unexpected[:5]
        assert not [s for s in tally.statuses if s >= 500 and s != 503], tally.statuses
        await assert_nothing_acknowledged_lost(database_url, tally.acknowledged)
        # the killed worker's projections were taken over by a live one
        await assert_projections_equal_a_rebuild(server, tokens, cli_env)
        # and its gauges left the sums: two live pools, not three
        async with httpx.AsyncClient(base_url=server.url) as client:
            text = (await client.get("/metrics")).text
        assert sample(text, "hamkari_db_pool_max_connections") == 2 * 7
    finally:
        await asyncio.to_thread(server.stop)
