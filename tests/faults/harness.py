"""What the fault tests share: a `hamkari serve` process they may kill, a PostgreSQL of
their own they may stop, twenty clients that retry blindly with their event ids, and
the checks that nothing acknowledged was lost."""

from __future__ import annotations

import asyncio
import collections
import json
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from server.auth.tokens import issue
from tests.builders import (
    challenge_reported,
    partner_registered,
    service_delivered,
    site_registered,
)
from tests.conftest import LiveServer, hamkari
from tests.waiting import until

# the answers a client may be told to come back after; anything else ends its request
RETRY = {429, 503}
REPORTS = (
    "/v1/reports/who-what-where",
    "/v1/reports/deliveries?group_by=partner,site,sector,month",
    "/v1/reports/pledges",
    "/v1/reports/commitments",
    "/v1/reports/partners/nrc",
)


class Server(LiveServer):
    """`hamkari serve` for the fault tests, its output kept in `log_dir`; the per-token
    rate limit off unless a test sets it (twenty clients share few tokens)."""

    def __init__(self, env: dict[str, str], *args: str, log_dir: Path) -> None:
        env = {**env, "HAMKARI_RATE_LIMIT": env.get("HAMKARI_RATE_LIMIT", "0")}
        super().__init__(env, *args, log_dir=log_dir)

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [int(pid) for pid in children]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LookupError(pid)


async def issue_tokens(owner_dsn: str) -> dict[str, str]:
    conn = await asyncpg.connect(owner_dsn)
    try:
        return {
            "admin": await issue(conn, name="fault-admin", role="admin"),
            "coordinator": await issue(conn, name="fault-coordinator", role="coordinator"),
            "auditor": await issue(conn, name="fault-auditor", role="auditor"),
            "nrc": await issue(conn, name="fault-nrc", role="partner", partner_id="nrc"),
            "ayandeh": await issue(
                conn, name="fault-ayandeh", role="partner", partner_id="ayandeh"
            ),
        }
    finally:
        await conn.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def set_up_world(url: str, tokens: dict[str, str]) -> None:
    body = [
        {"type": "PartnerRegistered", "data": partner_registered("nrc")},
        {
            "type": "PartnerRegistered",
            "data": partner_registered("ayandeh", name_en="Ayandeh", kind="national_ngo"),
        },
        {"type": "SiteRegistered", "data": site_registered("gol-tappeh")},
    ]
    async with httpx.AsyncClient(base_url=url, headers=bearer(tokens["admin"])) as client:
        response = await client.post("/v1/events", json=body)
        assert response.status_code == 201, response.text


@dataclass
class Tally:
    """What the clients were told."""

    acknowledged: dict[str, int] = field(default_factory=dict)  # event id -> position
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    transport_errors: collections.Counter[str] = field(default_factory=collections.Counter)
    unexpected: list[str] = field(default_factory=list)
    retry_after_missing: int = 0
    # (seconds into the load, method, seconds the answer took)
    latencies: list[tuple[float, str, float]] = field(default_factory=list)
    requests: int = 0


def _writes(partner: str, rng: random.Random) -> list[dict[str, Any]]:
    roll = rng.random()
    if roll < 0.15:
        return [
            {
                "type": "ChallengeReported",
                "id": str(uuid.uuid4()),
                "data": challenge_reported(partner_id=partner),
            }
        ]
    count = 3 if roll < 0.3 else 1
    return [
        {
            "type": "ServiceDelivered",
            "id": str(uuid.uuid4()),
            "data": service_delivered(partner_id=partner),
        }
        for _ in range(count)
    ]


class Load:
    """Twenty clients (fourteen writers, six readers) until `stop()`; each writer retries
    its request, same ids, through 503s and refused connections until it gets an answer.
    The readers read `reads` (the reports, by default) and a page of the log, in turn."""

    def __init__(
        self,
        url: str,
        tokens: dict[str, str],
        *,
        writers: int = 14,
        readers: int = 6,
        pause: float = 0.0,
        give_up_after: float = 60.0,
        reads: Sequence[str] = REPORTS,
    ) -> None:
        self.url = url
        self.tokens = tokens
        self.writers = writers
        self.readers = readers
        self.reads = reads
        self.pause = pause
        self.give_up_after = give_up_after
        self.tally = Tally()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.started = time.monotonic()

    def start(self) -> None:
        self.started = time.monotonic()
        for n in range(self.writers):
            self._tasks.append(asyncio.create_task(self._writer(n)))
        for n in range(self.readers):
            self._tasks.append(asyncio.create_task(self._reader(n)))

    async def stop(self) -> Tally:
        self._stopping.set()
        await asyncio.gather(*self._tasks)
        return self.tally

    async def _send(
        self, client: httpx.AsyncClient, method: str, path: str, **kwargs: Any
    ) -> httpx.Response | None:
        """One request, retried while the server says come back or cannot be reached."""
        deadline = time.monotonic() + self.give_up_after
        while time.monotonic() < deadline:
            started = time.monotonic()
            self.tally.requests += 1
            try:
                response = await client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                self.tally.transport_errors[type(exc).__name__] += 1
                if self._stopping.is_set() and method == "GET":
                    return None
                await asyncio.sleep(0.1)  # a client's pace between retries, not a wait
                continue
            self.tally.statuses[response.status_code] += 1
            if response.status_code < 500 or response.status_code == 503:
                self.tally.latencies.append(
                    (started - self.started, method, time.monotonic() - started)
                )
            if response.status_code in RETRY:
                if "retry-after" not in response.headers:
                    self.tally.retry_after_missing += 1
                if self._stopping.is_set() and method == "GET":
                    return None
                await asyncio.sleep(0.1)  # a client's pace between retries, not a wait
                continue
            return response
        return None

    async def _writer(self, n: int) -> None:
        partner = ("nrc", "ayandeh")[n % 2]
        rng = random.Random(n)
        async with httpx.AsyncClient(
            base_url=self.url, headers=bearer(self.tokens[partner]), timeout=15
        ) as client:
            while not self._stopping.is_set():
                events = _writes(partner, rng)
                body: Any = events if len(events) > 1 else events[0]
                response = await self._send(client, "POST", "/v1/events", json=body)
                if response is None:
                    continue  # never answered: not acknowledged
                if response.status_code in (200, 201):
                    receipts = response.json()
                    receipts = receipts if isinstance(receipts, list) else [receipts]
                    for event, receipt in zip(events, receipts, strict=True):
                        assert receipt["id"] == event["id"]
                        self.tally.acknowledged[event["id"]] = receipt["position"]
                else:
                    self.tally.unexpected.append(f"{response.status_code} {response.text}")
                if self.pause:
                    await asyncio.sleep(self.pause)  # the load's pace

    async def _reader(self, n: int) -> None:
        token = self.tokens["coordinator" if n % 2 else "auditor"]
        paths = [*self.reads, "/v1/events?after=0&limit=50"]
        async with httpx.AsyncClient(
            base_url=self.url, headers=bearer(token), timeout=15
        ) as client:
            i = n
            while not self._stopping.is_set():
                path = paths[i % len(paths)]
                i += 1
                response = await self._send(client, "GET", path)
                if response is not None and response.status_code != 200:
                    self.tally.unexpected.append(f"GET {path}: {response.status_code}")
                await asyncio.sleep(self.pause or 0.02)  # the load's pace


async def assert_nothing_acknowledged_lost(owner_dsn: str, acknowledged: dict[str, int]) -> int:
    """Every acknowledged event is in the log once, at its receipt's position; the
    positions are 1..N without a gap. Returns N."""
    conn = await asyncpg.connect(owner_dsn)
    try:
        rows = await conn.fetch("SELECT event_id::text AS id, position FROM events")
        head = await conn.fetchval("SELECT last_position FROM log_head")
    finally:
        await conn.close()
    positions = [r["position"] for r in rows]
    assert sorted(positions) == list(range(1, len(rows) + 1)), "positions have gaps"
    assert head == len(rows)
    stored = collections.Counter(r["id"] for r in rows)
    assert all(count == 1 for count in stored.values()), "an event id stored twice"
    at = {r["id"]: r["position"] for r in rows}
    missing = [i for i in acknowledged if i not in at]
    assert not missing, f"{len(missing)} acknowledged events missing, e.g. {missing[:3]}"
    moved = [i for i, p in acknowledged.items() if at[i] != p]
    assert not moved, f"receipts whose position differs from the log: {moved[:3]}"
    return len(rows)


async def acknowledged(load: Load, more_than: int, within: float = 60) -> int:
    """Wait until the load's clients have had more than `more_than` events acknowledged
    (not a fixed phase: on a loaded machine the same seconds bring fewer); how many."""
    await until(
        lambda: len(load.tally.acknowledged) > more_than,
        within,
        what=f"more than {more_than} events acknowledged",
    )
    return len(load.tally.acknowledged)


async def wait_projections_caught_up(url: str, tokens: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=url, headers=bearer(tokens["admin"])) as client:

        async def caught_up() -> bool:
            found = (await client.get("/v1/admin/projections")).json()["projections"]
            errors = [p["error"] for p in found if p["error"]]
            assert not errors, errors
            return all(p["lag_events"] == 0 for p in found)

        await until(caught_up, 60, what="projections caught up", interval=0.2)


async def read_reports(url: str, tokens: dict[str, str]) -> dict[str, Any]:
    out = {}
    async with httpx.AsyncClient(base_url=url, headers=bearer(tokens["coordinator"])) as client:
        for path in REPORTS:
            response = await client.get(path)
            assert response.status_code == 200, response.text
            body = response.json()
            body.pop("as_of_position", None)
            out[path] = body
    return out


async def assert_projections_equal_a_rebuild(
    server: Server, tokens: dict[str, str], env: dict[str, str]
) -> None:
    await wait_projections_caught_up(server.url, tokens)
    live = await read_reports(server.url, tokens)
    rebuilt = await asyncio.to_thread(hamkari, "projections", "rebuild", env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    await wait_projections_caught_up(server.url, tokens)
    assert await read_reports(server.url, tokens) == live


async def assert_audit_verifies(
    server: Server, tokens: dict[str, str], env: dict[str, str], work: Path
) -> None:
    """Sign a checkpoint now, export the log up to it, verify the export offline."""
    signed = await asyncio.to_thread(hamkari, "audit", "checkpoint", env=env)
    assert signed.returncode == 0, signed.stderr
    checkpoint = work / "checkpoint.json"
    checkpoint.write_text(signed.stdout)
    size = int(json.loads(signed.stdout)["size"])
    async with httpx.AsyncClient(
        base_url=server.url, headers=bearer(tokens["auditor"]), timeout=60
    ) as client:
        export = await client.get(f"/v1/audit/export?from=1&to={size}")
        assert export.status_code == 200, export.text
        key = await client.get("/v1/audit/public-key")
        assert key.status_code == 200
    (work / "export.ndjson").write_bytes(export.content)
    (work / "key.pem").write_bytes(key.content)
    verified = await asyncio.to_thread(
        hamkari,
        "audit",
        "verify",
        str(work / "export.ndjson"),
        "--checkpoint",
        str(checkpoint),
        "--public-key",
        str(work / "key.pem"),
        env=env,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
