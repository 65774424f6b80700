"""Replication (issue 18): `POST /v1/events` on one `hamkari serve` process, single events
and batches of 100 driven by wrk as in bench/http.py, without a standby and with a
synchronous hot standby, in one run.

The pair is server/database/replicated.py's (the embedded binaries, the standby made by
pg_basebackup, `synchronous_standby_names = '*'`), served through the operator's
two-host DATABASE_URL. Each figure on the pair has its own database whose
`synchronous_commit` says how far a commit waits: `local` (the standby streams, nobody
waits for it: what the pair's configuration costs besides the wait), `on` (the
standby's disk has the commit: the default) and `remote_apply` (its queries see it).
"Without a standby" is the bench's own embedded PostgreSQL, configured alike."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from bench.harness import Cluster, fresh_database
from bench.http import Load, check_stored, free_port, measure_server, prepare, require_wrk
from bench.http import seconds_for as wrk_seconds
from server.database.replicated import ReplicatedPostgres

# (label, synchronous_commit of the database) on the pair, in the order run; one pass
# each, so compare within a run and re-run before trusting one ratio
ON_THE_PAIR = [
    ("sync standby (local)", "local"),
    ("sync standby (on)", "on"),
    ("sync standby (remote_apply)", "remote_apply"),
]


async def _database_on_pair(pair: ReplicatedPostgres, synchronous_commit: str) -> str:
    """A fresh migrated database on the primary whose sessions commit with
    `synchronous_commit` (a database's setting overrides the primary's command line);
    its two-host DSN, as an operator writes it."""
    name = urlsplit(await fresh_database(pair.primary_dsn())).path.lstrip("/")
    conn = await asyncpg.connect(pair.primary_dsn())
    try:
        await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = {synchronous_commit}')
    finally:
        await conn.close()
    dsn = pair.dsn(name)
    conn = await asyncpg.connect(dsn)
    try:  # what the server's sessions will see
        assert await conn.fetchval("SHOW synchronous_commit") == synchronous_commit
        assert not await conn.fetchval("SELECT pg_is_in_recovery()")
    finally:
        await conn.close()
    return dsn


async def _measure(dsn: str, label: str, seconds: int) -> tuple[Load, Load]:
    tokens = await prepare(dsn)
    single, batches = await asyncio.to_thread(measure_server, dsn, tokens, seconds, label)
    await check_stored(dsn, single, batches)
    return single, batches


async def run(cluster: Cluster, scale: float = 1.0) -> list[str]:
    require_wrk()
    seconds = wrk_seconds(scale)
    figures: dict[str, tuple[Load, Load]] = {}
    figures["no standby"] = await _measure(await cluster.fresh_database(), "no standby", seconds)
    root = Path(tempfile.mkdtemp(prefix="hamkari-bench-replicated-"))
    pair = ReplicatedPostgres(
        root, primary_port=free_port(), standby_port=free_port(), synchronous=True
    )
    try:
        await asyncio.to_thread(pair.start)
        for label, mode in ON_THE_PAIR:
            dsn = await _database_on_pair(pair, mode)
            figures[mode] = await _measure(dsn, label, seconds)
        await asyncio.to_thread(pair.wait_streaming)  # still a sync standby at the end
    finally:
        await asyncio.to_thread(pair.stop)
        pair.destroy()
        shutil.rmtree(root, ignore_errors=True)
    lines = [
        f"Replication: one `hamkari serve` process, wrk -t2, {seconds} s a figure (fsync on;"
        " primary and standby on this one machine)"
    ]
    for single, batches in figures.values():
        lines += [single.line(), batches.line()]

    def ratio(mode: str, base: str, which: int) -> float:
        return figures[mode][which].events_per_second / figures[base][which].events_per_second

    lines.append("  ratios (events/s; below 1.00x is a cost):")
    for mode, base, what in (
        ("on", "no standby", "sync standby (on) / no standby"),
        ("remote_apply", "on", "remote_apply / on"),
        ("local", "no standby", "the pair, nobody waited for / no standby"),
    ):
        lines.append(
            f"    {what:<42} single {ratio(mode, base, 0):5.2f}x"
            f"   batches {ratio(mode, base, 1):5.2f}x"
        )
    lines.append(
        "    p99 added by remote_apply over on          "
        f"single {figures['remote_apply'][0].p99_ms - figures['on'][0].p99_ms:+7.2f} ms"
        f"   batches {figures['remote_apply'][1].p99_ms - figures['on'][1].p99_ms:+7.2f} ms"
    )
    return lines
