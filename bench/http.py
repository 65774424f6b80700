"""HTTP: `POST /v1/events` on one `hamkari serve` process, against its no-database twin.

wrk (a separate process, two threads) drives both with bench/post_events.lua: fresh,
valid ServiceDelivered events posted by a partner token, single events from 64
connections and batches of 100 from 16. The twin (bench/ceiling.py) decodes and
validates the same body and encodes the same receipts, without touching the database:
the ratio says what the token check, the aggregates and the durable append cost."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from bench.harness import Cluster
from server.auth.tokens import issue
from tests.builders import partner_registered, site_registered

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).with_name("post_events.lua")


@dataclass
class Load:
    name: str
    batch: int
    requests: int
    seconds: float
    failed: int
    p50_ms: float
    p99_ms: float
    # the share of the whole machine's CPU time left idle during the run
    idle: float | None = None

    @property
    def events_per_second(self) -> float:
        return (self.requests - self.failed) * self.batch / self.seconds

    def line(self) -> str:
        text = (
            f"  {self.name:<52} {self.events_per_second:>11,.0f} ev/s"
            f"   p50 {self.p50_ms:6.2f} ms   p99 {self.p99_ms:6.2f} ms"
        )
        return text + (f"   ({self.failed:,} failed)" if self.failed else "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(
    command: list[str], env: dict[str, str], ready_url: str, cwd: Path = ROOT
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, waited for until `ready_url` answers, stopped with SIGTERM."""
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=output)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(ready_url, timeout=2)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        output.seek(0)
                        raise RuntimeError(f"{command} did not start: {output.read()!r}") from None
                    time.sleep(0.2)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_wrk(
    name: str,
    url: str,
    script: Path,
    env: dict[str, str],
    batch: int,
    connections: int,
    seconds: int,
) -> Load:
    """wrk with two threads and a Lua script that prints a RESULT line in its `done`."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url]
    before = cpu_times()
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    after = cpu_times()
    result = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    requests, micros, status, socket_errors, p50, p99, _ = (int(x) for x in result.split()[1:])
    return Load(
        name=name,
        batch=batch,
        requests=requests,
        seconds=micros / 1e6,
        failed=status + socket_errors,
        p50_ms=p50 / 1000,
        p99_ms=p99 / 1000,
        idle=idle_share(before, after),
    )


def cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies of the whole machine since boot; None off Linux."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    return fields[3] + fields[4], sum(fields)


def idle_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def wrk(name: str, url: str, token: str, batch: int, connections: int, seconds: int) -> Load:
    """Posts of fresh ServiceDelivered events, `batch` to a request."""
    env = {
        "HAMKARI_TOKEN": token,
        "HAMKARI_BATCH": str(batch),
        "HAMKARI_RUN": uuid.uuid4().hex[:8],
    }
    return run_wrk(name, url, SCRIPT, env, batch, connections, seconds)


async def prepare(dsn: str) -> dict[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            "admin": await issue(conn, name="bench-admin", role="admin"),
            "nrc": await issue(conn, name="bench-nrc", role="partner", partner_id="nrc"),
        }
    finally:
        await conn.close()


def measure_ceiling(seconds: int) -> tuple[Load, Load]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "bench.ceiling", str(port)]
    with process(command, dict(os.environ), f"{url}/v1/events"):
        single = wrk("no-database twin, single events, 64 conns", url, "-", 1, 64, seconds)
        batches = wrk("no-database twin, batches of 100, 16 conns", url, "-", 100, 16, seconds)
    return single, batches


def measure_floor(dsn: str, seconds: int) -> tuple[Load, Load]:
    """The twin plus one grouped, committed INSERT (bench/floor.py), on `dsn`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "bench.floor", str(port)]
    with process(command, {**os.environ, "DATABASE_URL": dsn}, f"{url}/v1/events"):
        single = wrk("durable floor, single events, 64 conns", url, "-", 1, 64, seconds)
        batches = wrk("durable floor, batches of 100, 16 conns", url, "-", 100, 16, seconds)
    return single, batches


@contextmanager
def served(dsn: str, tokens: dict[str, str], workers: int = 1) -> Iterator[str]:
    """`hamkari serve` on `dsn` with partner nrc and site gol-tappeh registered: its URL.

    One token drives the whole load, so the per-token rate limit is off (it would
    measure itself)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = tempfile.mkdtemp(prefix="hamkari-bench-serve-")
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "HAMKARI_DATA_DIR": data_dir,
        "HAMKARI_RATE_LIMIT": "0",
    }
    command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    try:
        with process(command, env, f"{url}/ready"):
            admin = {"Authorization": f"Bearer {tokens['admin']}"}
            setup = [
                {"type": "PartnerRegistered", "data": partner_registered("nrc")},
                {"type": "SiteRegistered", "data": site_registered("gol-tappeh")},
            ]
            answer = httpx.post(f"{url}/v1/events", json=setup, headers=admin, timeout=30)
            answer.raise_for_status()
            yield url
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def measure_server(
    dsn: str, tokens: dict[str, str], seconds: int, label: str = "POST /v1/events"
) -> tuple[Load, Load]:
    """Single events from 64 connections, then batches of 100 from 16, on one server."""
    with served(dsn, tokens) as url:
        single = wrk(f"{label}, single events, 64 conns", url, tokens["nrc"], 1, 64, seconds)
        batches = wrk(f"{label}, batches of 100, 16 conns", url, tokens["nrc"], 100, 16, seconds)
    return single, batches


async def count_deliveries(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM events WHERE type = 'ServiceDelivered'")
        )
    finally:
        await conn.close()


async def check_stored(dsn: str, single: Load, batches: Load) -> tuple[int, int]:
    """(stored, acknowledged) ServiceDelivered events; RuntimeError when an event wrk saw
    acknowledged is not in the log."""
    stored = await count_deliveries(dsn)
    acknowledged = (single.requests - single.failed) + (batches.requests - batches.failed) * 100
    if stored < acknowledged:
        raise RuntimeError(f"{acknowledged:,} events acknowledged but only {stored:,} stored")
    return stored, acknowledged


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (apt-get install wrk)")


def seconds_for(scale: float) -> int:
    """Seconds a wrk figure runs: 10 at full scale, never under 3."""
    return max(3, int(10 * scale))


async def run(cluster: Cluster, scale: float = 1.0) -> list[str]:
    require_wrk()
    seconds = seconds_for(scale)
    ceiling, ceiling_batches = await asyncio.to_thread(measure_ceiling, seconds)
    floor, floor_batches = await asyncio.to_thread(
        measure_floor, await cluster.fresh_database(), seconds
    )
    dsn = await cluster.fresh_database()
    tokens = await prepare(dsn)
    single, batches = await asyncio.to_thread(measure_server, dsn, tokens, seconds)
    stored, acknowledged = await check_stored(dsn, single, batches)
    lines = [f"HTTP: one `hamkari serve` process, wrk -t2, {seconds} s a figure (fsync on)"]
    loads = (ceiling, ceiling_batches, floor, floor_batches, single, batches)
    lines += [load.line() for load in loads]
    single_ratio = single.events_per_second / ceiling.events_per_second
    batch_ratio = batches.events_per_second / ceiling_batches.events_per_second
    floor_ratio = floor.events_per_second / ceiling.events_per_second
    lines += [
        f"  {stored:,} events stored, {acknowledged:,} acknowledged (in-flight at the end"
        " of a run are stored but not counted by wrk)",
        "  ratios and targets:",
        f"    single events / twin           {single_ratio:6.2f}x   (target >= 0.40x)",
        f"    single events p99              {single.p99_ms:8.2f} ms   (target < 50 ms)",
        f"    batches of 100                 {batches.events_per_second:>8,.0f} ev/s"
        " (target >= 30,000)",
        f"    batches / twin batches         {batch_ratio:6.2f}x",
        "  what the stack can do durably on this machine (bench/floor.py):",
        f"    floor single events / twin     {floor_ratio:6.2f}x   p99 {floor.p99_ms:.2f} ms",
        f"    single events / floor          {single_ratio / floor_ratio:6.2f}x",
        f"    batches / floor batches        "
        f"{batches.events_per_second / floor_batches.events_per_second:6.2f}x",
    ]
    return lines
