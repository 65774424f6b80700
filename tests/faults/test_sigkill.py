"""SIGKILL the server, workers and all, while twenty clients post and read; restart it.
Every event that got a 201 is in the log exactly once at its receipt's position, the
positions have no gap, the projections equal a rebuild and the audit log verifies."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.faults.harness import (
    Load,
    Server,
    acknowledged,
    assert_audit_verifies,
    assert_nothing_acknowledged_lost,
    assert_projections_equal_a_rebuild,
    issue_tokens,
    set_up_world,
)
from tests.waiting import until

pytestmark = pytest.mark.slow


async def test_sigkill_during_load_loses_nothing_acknowledged(
    database_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    tokens = await issue_tokens(database_url)
    server = Server(cli_env, "--workers", "2", log_dir=tmp_path)
    server.start()
    try:
        await set_up_world(server.url, tokens)
        load = Load(server.url, tokens)
        load.start()
        before_kill = await acknowledged(load, 50)  # the load has got going
        await asyncio.to_thread(server.kill_all)
        await until(lambda: load.tally.transport_errors, 30, what="the clients noticed the kill")
        await asyncio.to_thread(server.start)
        await acknowledged(load, before_kill + 50)  # and writes go on after the restart
        tally = await load.stop()

        assert not tally.unexpected, tally.unexpected[:5]
        assert not [s for s in tally.statuses if s >= 500 and s != 503], tally.statuses
        assert await assert_nothing_acknowledged_lost(database_url, tally.acknowledged) >= len(
            tally.acknowledged
        )
        await assert_projections_equal_a_rebuild(server, tokens, cli_env)
        await assert_audit_verifies(server, tokens, cli_env, tmp_path)
    finally:
        await asyncio.to_thread(server.stop)
