"""What the replication tests share: a primary and a hot standby of their own (the
embedded binaries, server/database/replicated.py), migrated through the multi-host
DATABASE_URL an operator would give, and the checks of the audit tree after a failover."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx

from server.audit.merkle import root_from_leaves
from server.database.replicated import ReplicatedPostgres
from server.database.runtime import ensure_database
from tests.conftest import free_port, hamkari

DATABASE = "hamkari"


@contextmanager
def replicated_pair(*, synchronous: bool) -> Iterator[ReplicatedPostgres]:
    """A primary and a standby streaming from it, destroyed after (short /tmp paths)."""
    root = Path(tempfile.mkdtemp(prefix="hk-r-", dir="/tmp"))
    pair = ReplicatedPostgres(
        root, primary_port=free_port(), standby_port=free_port(), synchronous=synchronous
    )
    try:
        pair.start()
        yield pair
    finally:
        pair.destroy()
        shutil.rmtree(root, ignore_errors=True)


async def migrated_env(pair: ReplicatedPostgres, data_dir: Path) -> dict[str, str]:
    """The environment of a `hamkari` command against the pair, after `hamkari migrate`
    through the multi-host DATABASE_URL (the database is made on the primary and
    replayed by the standby)."""
    await ensure_database(pair.primary_dsn(), DATABASE)
    env = {
        **os.environ,
        "DATABASE_URL": pair.dsn(DATABASE),
        "HAMKARI_DATA_DIR": str(data_dir),
    }
    migrated = await asyncio.to_thread(hamkari, "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    return env


async def assert_checkpoints_are_prefixes(primary_dsn: str) -> int:
    """Every stored checkpoint's root is the root of the log's first `size` leaves: no
    checkpoint signed before the failover was forked from (the newest one's root is
    the whole tree's when it covers the log). Returns the newest checkpoint's size."""
    conn = await asyncpg.connect(primary_dsn)
    try:
        leaves = [
            bytes(r["leaf_hash"])
            for r in await conn.fetch("SELECT leaf_hash FROM events ORDER BY position")
        ]
        signed = await conn.fetch("SELECT size, root_hash FROM checkpoints ORDER BY size")
    finally:
        await conn.close()
    assert signed, "no checkpoint signed"
    forked = [
        row["size"]
        for row in signed
        if root_from_leaves(leaves[: row["size"]]) != bytes(row["root_hash"])
    ]
    assert not forked, f"checkpoints not consistent with the log after failover: {forked}"
    newest = int(signed[-1]["size"])
    return newest


async def latest_checkpoint_json(url: str) -> str:
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/v1/audit/checkpoint", headers={"Accept": "application/json"})
        assert response.status_code == 200, response.text
        return json.dumps(response.json())
