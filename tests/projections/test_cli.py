"""`hamkari projections status|rebuild`, as an operator runs them."""

from __future__ import annotations

import asyncpg

from server.eventstore import EventStore
from tests.conftest import hamkari
from tests.projections.helpers import append, catch_up, table_contents
from tests.projections.scenario import EVENTS


async def test_status_and_rebuild_from_the_command_line(
    cli_env: dict[str, str], store: EventStore, pool: asyncpg.Pool
) -> None:
    head = (await append(store, EVENTS))[-1].position
    before = hamkari("projections", "status", env=cli_env)
    assert before.returncode == 0, before.stderr
    deliveries = next(line for line in before.stdout.splitlines() if line.startswith("deliveries"))
    assert deliveries.split()[1:4] == ["0", str(head), str(head)]  # position, head, lag

    await catch_up(pool)
    live = await table_contents(pool)
    rebuilt = hamkari("projections", "rebuild", "deliveries", env=cli_env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"rebuilt deliveries at position {head}" in rebuilt.stdout
    assert await table_contents(pool) == live
    # the rebuilt tables belong to the read models' owner, not to the server's role,
    # which can still swap them again and write them
    owner = await pool.fetchval(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'readmodel'"
        " AND tablename = 'deliveries'"
    )
    assert owner == "hamkari_readmodel"
    again = hamkari("projections", "rebuild", "deliveries", env=cli_env)
    assert again.returncode == 0, again.stderr
    assert await table_contents(pool) == live

    unknown = hamkari("projections", "rebuild", "nothing", env=cli_env)
    assert unknown.returncode == 2 and "known:" in unknown.stderr
