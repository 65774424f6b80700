"""What every bench shares: a throwaway embedded PostgreSQL with fsync on, fresh
migrated databases, timing helpers and the printed table."""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from server.config import Settings
from server.database.embedded import EmbeddedPostgres
from server.database.migrate import migrate
from server.database.runtime import with_database


@dataclass
class Figure:
    name: str
    events: int
    seconds: float
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def line(self) -> str:
        text = f"  {self.name:<52} {self.rate:>11,.0f} ev/s"
        if self.latencies:
            text += (
                f"   p50 {self.percentile(0.5) * 1000:6.2f} ms"
                f"   p99 {self.percentile(0.99) * 1000:6.2f} ms"
            )
        return text


def machine() -> str:
    cpus = os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = platform.python_version()
    return f"{platform.node()} {platform.machine()} {cpus} cores {mem:.0f} GiB, Python {python}"


class Cluster:
    """One embedded PostgreSQL for the whole bench run."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hamkari-bench-"))
        self.server = EmbeddedPostgres(self.root / "pgdata")
        self.admin_dsn = ""

    def __enter__(self) -> Cluster:
        self.admin_dsn = self.server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.destroy()
        shutil.rmtree(self.root, ignore_errors=True)

    async def fresh_database(self) -> str:
        return await fresh_database(self.admin_dsn)


async def fresh_database(admin_dsn: str) -> str:
    """A new, migrated database on the server of `admin_dsn` (the bench's own, or the
    primary of the replication section's pair); its DSN."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = with_database(admin_dsn, name)
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        # start each figure from a clean slate: no dirty buffers from the last one
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    return dsn


def settings_for(dsn: str) -> Settings:
    return Settings(database_url=dsn)


async def timed_callers(
    name: str, callers: int, per_caller: int, call: Callable[[int, int], Awaitable[int]]
) -> Figure:
    """Run `callers` concurrent loops of `per_caller` calls; each call returns its event count."""
    latencies: list[float] = []
    total = 0

    async def loop(n: int) -> None:
        nonlocal total
        for i in range(per_caller):
            start = time.perf_counter()
            appended = await call(n, i)  # not `total += await ...`: that reads total first
            latencies.append(time.perf_counter() - start)
            total += appended

    start = time.perf_counter()
    await asyncio.gather(*(loop(n) for n in range(callers)))
    return Figure(name, total, time.perf_counter() - start, latencies)


@asynccontextmanager
async def pool_for(dsn: str, size: int) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(dsn, min_size=size, max_size=size)
    try:
        yield pool
    finally:
        await pool.close()


def median(values: list[float]) -> float:
    return statistics.median(values)
