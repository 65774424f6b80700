"""Fixtures: one real PostgreSQL per test session (embedded, or TEST_DATABASE_URL),
a migrated template, and a fresh database cloned from it for each test that asks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from server.config import Settings
from server.database.embedded import EmbeddedPostgres
from server.database.migrate import migrate
from server.database.pool import create_pool
from server.database.runtime import with_database
from server.eventstore import Appender, EventStore

TEMPLATE = f"hamkari_template_{os.getpid()}"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    """A superuser DSN. No database, no tests: a server that cannot start fails the run."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    root = Path(tempfile.mkdtemp(prefix="hamkari-test-"))
    server = EmbeddedPostgres(root / "pgdata")
    dsn = server.start()
    try:
        yield dsn
    finally:
        server.destroy()
        root.rmdir()


@pytest.fixture(scope="session")
async def template_database(pg_admin_dsn: str) -> AsyncIterator[str]:
    admin = await asyncpg.connect(pg_admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        await admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
        conn = await asyncpg.connect(with_database(pg_admin_dsn, TEMPLATE))
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield TEMPLATE
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def cloned_database(admin_dsn: str, template: str, prefix: str = "t") -> AsyncIterator[str]:
    """The owner DSN of a fresh database cloned from the migrated template, dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        yield with_database(admin_dsn, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def database_url(pg_admin_dsn: str, template_database: str) -> AsyncIterator[str]:
    """The owner DSN of a fresh, migrated database for this test alone."""
    async with cloned_database(pg_admin_dsn, template_database) as dsn:
        yield dsn


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=str(tmp_path / "var"))


@pytest.fixture
async def pool(database_url: str, settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, settings, min_size=1, max_size=20)
    try:
        yield pool
    finally:
        await asyncio.wait_for(pool.close(), 10)


@pytest.fixture
async def store(pool: asyncpg.Pool) -> AsyncIterator[EventStore]:
    appender = Appender(pool)
    appender.start()
    try:
        yield EventStore(pool, appender)
    finally:
        await appender.close()


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment a `hamkari` command runs with against this test's database."""
    return {**os.environ, "DATABASE_URL": database_url, "HAMKARI_DATA_DIR": str(tmp_path)}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A `hamkari serve` process on a free port, as an operator starts it: in a process
    group of its own (so a test can SIGKILL the master and its workers at once), its
    output in a file (nobody reads a pipe during a test, and a full one would stall the
    server's logging): in `log_dir` when given, else a temporary file removed at stop."""

    def __init__(self, env: dict[str, str], *args: str, log_dir: Path | None = None) -> None:
        self.port = free_port()
        self.env = env
        self.args = args  # more `hamkari serve` arguments, e.g. ("--workers", "2")
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._temporary_log = log_dir is None
        if log_dir is None:
            self.log_path = Path(tempfile.mkstemp(prefix="hamkari-serve-", suffix=".log")[1])
        else:
            self.log_path = log_dir / f"serve-{self.port}.log"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60) -> None:
        import httpx

        self.launch()
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"hamkari serve exited:\n{self.output()[-4000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready in {timeout} s:\n{self.output()[-4000:]}")
            time.sleep(0.1)

    def launch(self) -> None:
        """Start the process and return at once, without waiting for it to serve."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port), *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def group(self) -> list[int]:
        """Every process still in the server's process group (its workers, projector)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == self.pid:
                found.append(int(entry.name))
        return found

    def kill_all(self) -> None:
        """SIGKILL to the server and its workers at once: a power cut, for the server."""
        os.killpg(self.pid, signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    os.killpg(self.pid, signal.SIGKILL)
                    self.process.wait()
            # a worker left behind by a killed master would keep the port
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
        if self._temporary_log:
            self.log_path.unlink(missing_ok=True)


@pytest.fixture
def live_server(cli_env: dict[str, str]) -> Iterator[LiveServer]:
    server = LiveServer(cli_env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def hamkari(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """A `hamkari` command as an operator runs it, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def load_demo(env: dict[str, str]) -> dict[str, str]:
    """`hamkari demo load` as `make run` does it; the demo tokens it saved, by name."""
    import json

    loaded = hamkari("demo", "load", env=env)
    assert loaded.returncode == 0, loaded.stderr
    tokens: dict[str, str] = json.loads(
        (Path(env["HAMKARI_DATA_DIR"]) / "demo-tokens.json").read_text()
    )
    return tokens
