"""SIGTERM `hamkari serve` (with its embedded PostgreSQL) while twenty clients post: it
exits on its own within a bound, nothing acknowledged is lost, and PostgreSQL was shut
down cleanly (no crash recovery at the next start)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.database.embedded import EmbeddedPostgres
from server.database.runtime import EMBEDDED_DATABASE
from tests.faults.harness import (
    Load,
    Server,
    acknowledged,
    assert_nothing_acknowledged_lost,
    bearer,
    issue_tokens,
    set_up_world,
)
from tests.waiting import until

pytestmark = pytest.mark.slow

# from SIGTERM to exit: in-flight requests, the appender's queue, the runners' batches,
# the pool and PostgreSQL's own shutdown
EXIT_BOUND = 20.0


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # short: the embedded server's socket lives under it
    root = Path(tempfile.mkdtemp(prefix="hk-", dir="/tmp"))
    try:
        yield root
    finally:
        cluster = EmbeddedPostgres(root / "pgdata")
        if cluster.initialised():
            cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)


async def test_sigterm_drains_and_stops_the_embedded_database(
    data_dir: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(HAMKARI_DATA_DIR=str(data_dir), HAMKARI_SHUTDOWN_TIMEOUT="10")
    server = Server(env, "--workers", "2", log_dir=tmp_path)
    server.start(timeout=90)
    cluster = EmbeddedPostgres(data_dir / "pgdata")
    owner_dsn = cluster.dsn(EMBEDDED_DATABASE)
    try:
        tokens = await issue_tokens(owner_dsn)
        await set_up_world(server.url, tokens)
        load = Load(server.url, tokens, give_up_after=EXIT_BOUND)
        load.start()
        await acknowledged(load, 20)  # the load has got going
        # as systemd or docker stop does: SIGTERM to the main process
        os.kill(server.pid, signal.SIGTERM)
        sent = time.monotonic()
        assert server.process is not None
        code = await asyncio.to_thread(server.process.wait, EXIT_BOUND + 10)
        took = time.monotonic() - sent
        tally = await load.stop()
    finally:
        await asyncio.to_thread(server.stop)

    output = server.output()
    assert code == 0, output[-3000:]
    assert took < EXIT_BOUND, f"took {took:.1f} s to exit"
    assert "Hamkari stopped" in output
    assert not [s for s in tally.statuses if s >= 500 and s != 503], tally.statuses
    assert not tally.unexpected, tally.unexpected[:5]
    # PostgreSQL went down with the server, and cleanly: a fast shutdown leaves no pid
    # file and says so in its log, and the next start needs no recovery
    assert not cluster.running()
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()
    assert "database system is shut down" in cluster.log_file.read_text()
    cluster.start()
    try:
        await assert_nothing_acknowledged_lost(owner_dsn, tally.acknowledged)
    finally:
        cluster.stop()
    assert "database system was not properly shut down" not in cluster.log_file.read_text()


def _accepted(server: Server) -> bool:
    """Whether a worker has accepted a connection on the server's port (a socket of
    the port's that a worker holds), not merely the kernel's backlog."""
    port = f"{server.port:04X}"
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        # local address, state 01 (ESTABLISHED), inode
        if fields[1].endswith(f":{port}") and fields[3] == "01":
            inodes.add(f"socket:[{fields[9]}]")
    for worker in server.workers():
        for fd in Path(f"/proc/{worker}/fd").iterdir():
            try:
                if os.readlink(fd) in inodes:
                    return True
            except OSError:
                continue
    return False


async def test_sigterm_lets_a_request_in_flight_finish(
    database_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    # nobody runs the projections, so a report asked for at the head waits its full
    # HAMKARI_REPORT_WAIT_MAX: a request still in flight when SIGTERM arrives
    env = {**cli_env, "HAMKARI_PROJECTIONS": "off", "HAMKARI_REPORT_WAIT_MAX": "3"}
    tokens = await issue_tokens(database_url)
    server = Server(env, "--workers", "1", log_dir=tmp_path)
    server.start()
    try:
        await set_up_world(server.url, tokens)
        async with httpx.AsyncClient(
            base_url=server.url, headers=bearer(tokens["coordinator"]), timeout=30
        ) as client:
            asked = time.monotonic()
            waiting = asyncio.create_task(client.get("/v1/reports/deliveries?min_position=3"))
            # in flight: the request has reached the server, which holds it for 3 s
            await until(lambda: _accepted(server), 10, what="the request accepted")
            os.kill(server.pid, signal.SIGTERM)
            response = await waiting
            answered = time.monotonic() - asked
            # the listening socket is closed at once: new requests are refused
            async with httpx.AsyncClient(base_url=server.url) as fresh:
                with pytest.raises(httpx.ConnectError):
                    await fresh.get("/health")
        assert server.process is not None
        code = await asyncio.to_thread(server.process.wait, EXIT_BOUND)
    finally:
        await asyncio.to_thread(server.stop)
    # answered, not cut off: the report's own answer after its full wait
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert answered >= 2.5
    assert code == 0
