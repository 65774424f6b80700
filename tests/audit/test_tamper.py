"""Black-box: a running `hamkari serve`, an auditor who kept a checkpoint, and a PostgreSQL
superuser who disables the guards and rewrites the log. `hamkari audit verify` catches
every rewrite and names the position; an export still verifies after the server is gone."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from server.audit.merkle import Frontier
from server.auth.tokens import issue
from server.eventstore import EventStore
from server.eventstore.records import Entry, Metadata, encode_entry, leaf_hash
from tests.audit.helpers import fill, leaf_hashes
from tests.conftest import ROOT, free_port, hamkari

pytestmark = pytest.mark.slow


@dataclass
class Server:
    url: str
    token: str
    env: dict[str, str]
    process: subprocess.Popen[str]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        headers = {**self.auth, "Accept": "application/json"}
        return httpx.get(self.url + path, params=params, headers=headers, timeout=30)

    def fetch(self, path: str, **params: Any) -> bytes:
        """A whole response body, as an auditor's `curl -o` would save it."""
        response = httpx.get(self.url + path, params=params, headers=self.auth, timeout=30)
        assert response.status_code == 200, response.text
        return response.content

    def sign(self) -> dict[str, Any]:
        response = httpx.post(self.url + "/v1/audit/checkpoints", headers=self.auth, timeout=30)
        assert response.status_code in (200, 201), response.text
        body: dict[str, Any] = response.json()
        return body

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
async def auditor_token(database_url: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        return await issue(conn, name="auditor", role="auditor", partner_id=None)
    finally:
        await conn.close()


@pytest.fixture
def server(cli_env: dict[str, str], auditor_token: str) -> Iterator[Server]:
    port = free_port()
    env = {**cli_env, "HAMKARI_CHECKPOINT_EVENTS": "0", "HAMKARI_CHECKPOINT_SECONDS": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Server(f"http://127.0.0.1:{port}", auditor_token, env, process)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(running.url + "/ready", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        assert time.monotonic() < deadline, "server did not come up"
        time.sleep(0.1)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def history(server: Server, store: EventStore, tmp_path: Path) -> AsyncIterator[Path]:
    """40 events, a checkpoint signed every 10, the auditor's copy of the one at 20."""
    for n in range(4):
        await fill(store, 10, seed=n, tag=f"h{n}")
        checkpoint = server.sign()
        if checkpoint["size"] == 20:
            (tmp_path / "old.json").write_text(json.dumps(checkpoint))
    yield tmp_path / "old.json"


async def superuser(database_url: str, *statements: str) -> None:
    owner = await asyncpg.connect(database_url)
    try:
        for table in ("events", "merkle_nodes", "checkpoints"):
            await owner.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for statement in statements:
            await owner.execute(statement)
        for row in await owner.fetch(
            "SELECT tgrelid::regclass::text AS tab, tgname FROM pg_trigger WHERE NOT tgisinternal"
        ):
            await owner.execute(f"ALTER TABLE {row['tab']} ENABLE ALWAYS TRIGGER {row['tgname']}")
    finally:
        await owner.close()


def verify_live(server: Server, checkpoint: Path) -> subprocess.CompletedProcess[str]:
    return hamkari(
        "audit", "verify", "--url", server.url, "--checkpoint", str(checkpoint),
        "--token", server.token, env=server.env,
    )  # fmt: skip


def assert_names(result: subprocess.CompletedProcess[str], position: int) -> None:
    print(result.stdout, result.stderr)  # shown when a test fails, or with -s
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"first bad position: {position}\n" in result.stderr, result.stderr


def kept_size(checkpoint: Path) -> int:
    size: int = json.loads(checkpoint.read_bytes())["size"]
    return size


def forged_entry(position: int) -> bytes:
    return encode_entry(
        Entry(
            position=position,
            id=uuid.uuid4(),
            type="Noted",
            stream="forged",
            version=1,
            schema_version=1,
            recorded_at=datetime.now(UTC),
            metadata=Metadata(principal="tester", role="admin"),
            data=msgspec.Raw(b'{"note":"never happened"}'),
        )
    )


def hexa(data: bytes) -> str:
    return "'\\x" + data.hex() + "'::bytea"


async def test_an_untouched_log_verifies_live(server: Server, history: Path) -> None:
    result = verify_live(server, history)
    assert result.returncode == 0, result.stderr
    assert "consistency proof 20 -> 40" in result.stdout and "OK" in result.stdout


# a well-formed event that was never appended, its leaf hash computed as the server would
FORGED = forged_entry(13)

REWRITES = {
    # one byte of the stored bytes of event 13 (its data's first key: "xata")
    "change-one-byte": (
        ["UPDATE events SET entry = overlay(entry PLACING 'x'::bytea FROM 3 FOR 1)"
         " WHERE position = 13"],
        13,
    ),
    "delete-one": (["DELETE FROM events WHERE position = 13"], 13),
    "swap-two": (
        ["UPDATE events e SET entry = o.entry, leaf_hash = o.leaf_hash FROM events o"
         " WHERE (e.position, o.position) IN ((13, 17), (17, 13))"],
        13,
    ),
    "insert-in-the-middle": (
        ["UPDATE events SET position = position + 1000000 WHERE position >= 13",
         "UPDATE events SET position = position - 999999 WHERE position > 1000000",
         f"INSERT INTO events VALUES (13, gen_random_uuid(), 'forged', 1, 'Noted', 1, now(),"
         f" {hexa(FORGED)}, {hexa(leaf_hash(FORGED))})"],
        13,
    ),
}  # fmt: skip


@pytest.mark.parametrize("rewrite", list(REWRITES))
async def test_a_rewrite_of_the_events_is_named_live_and_offline(
    server: Server, history: Path, database_url: str, tmp_path: Path, rewrite: str
) -> None:
    statements, position = REWRITES[rewrite]
    await superuser(database_url, *statements)
    assert_names(verify_live(server, history), position)

    # the export the server now serves, checked offline against the newest checkpoint
    newest = server.get("/v1/audit/checkpoint")
    (tmp_path / "newest.json").write_text(newest.text)
    (tmp_path / "key.pem").write_bytes(server.fetch("/v1/audit/public-key"))
    (tmp_path / "export.ndjson").write_bytes(server.fetch("/v1/audit/export", to=40))
    offline = hamkari(
        "audit", "verify", str(tmp_path / "export.ndjson"),
        "--checkpoint", str(tmp_path / "newest.json"),
        "--public-key", str(tmp_path / "key.pem"), env=server.env,
    )  # fmt: skip
    assert_names(offline, position)


async def test_a_rewritten_tail_is_caught_from_the_checkpoint_the_auditor_kept(
    server: Server,
    history: Path,
    store: EventStore,
    pool: asyncpg.Pool,
    database_url: str,
    tmp_path: Path,
) -> None:
    kept = tmp_path / "kept.json"
    kept.write_text(server.get("/v1/audit/checkpoint").text)  # size 40
    # A careful superuser rolls the log back to 33, with its tree and head, erases the
    # checkpoints past it, and lets the server append other events on top.
    frontier = Frontier().advance((await leaf_hashes(pool))[:33])
    await superuser(
        database_url,
        "DELETE FROM events WHERE position > 33",
        "DELETE FROM merkle_nodes WHERE (index + 1) * (1::bigint << level) > 33",
        "DELETE FROM checkpoints WHERE size > 33",
        f"UPDATE log_head SET last_position = 33, frontier = {hexa(frontier.to_bytes())}",
    )
    await fill(store, 12, tag="rewritten")
    assert server.sign()["size"] == 45  # consistent with 30, the last one left
    result = verify_live(server, kept)
    # The originals of 34..40 are gone from the server, so nothing can prove 31..33
    # either: the verifier names the first position after the last signed size that
    # still matches, and says where the change must be.
    assert_names(result, 31)
    assert "consistency proof from your checkpoint (40) to the newest (45) does not verify" in (
        result.stderr
    )
    assert "31..40 are not" in result.stderr


async def test_a_rewrite_that_fits_its_leaf_hash_is_caught(
    server: Server, history: Path, database_url: str
) -> None:
    forged = forged_entry(13)
    await superuser(
        database_url,
        f"UPDATE events SET entry = {hexa(forged)}, leaf_hash = {hexa(leaf_hash(forged))}"
        " WHERE position = 13",
    )
    result = verify_live(server, history)
    assert result.returncode == 1
    # only signed roots can tell: at or after the last matching checkpoint (10), at or
    # before the forgery
    named = int(result.stderr.split("first bad position: ")[1].split()[0])
    assert 11 <= named <= 13, result.stderr


async def test_a_doctored_checkpoint_is_refused(
    server: Server, history: Path, tmp_path: Path
) -> None:
    assert kept_size(history) == 20
    kept = server.get("/v1/audit/checkpoints", after=19, limit=1).json()["checkpoints"][0]
    doctored = tmp_path / "doctored.json"
    doctored.write_text(json.dumps({**kept, "note": kept["note"].replace("\n20\n", "\n21\n")}))
    result = verify_live(server, doctored)
    assert result.returncode == 1 and "does not verify" in result.stderr, result.stderr


async def test_an_export_verifies_offline_after_the_server_is_gone(
    server: Server, history: Path, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_text(server.get("/v1/audit/checkpoint").text)
    key = tmp_path / "key.vkey"
    key.write_text(server.get("/v1/audit/public-key").json()["vkey"])
    export = tmp_path / "export.ndjson"
    export.write_bytes(server.fetch("/v1/audit/export"))
    server.stop()
    env = {k: v for k, v in server.env.items() if k != "DATABASE_URL"}
    env["HAMKARI_DATA_DIR"] = str(tmp_path / "nowhere")  # no database, no key of ours
    args = ["audit", "verify", str(export), "--checkpoint", str(checkpoint)]
    result = hamkari(*args, "--public-key", str(key), env=env)
    assert result.returncode == 0, result.stderr
    assert "re-hashed 40 entries" in result.stdout
    assert not (tmp_path / "nowhere").exists()

    lines = export.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[26])
    data = bytearray(base64.b64decode(record["entry"]))
    data[data.index(b'"n":') + 4] ^= 1  # one digit of event 27's data
    record["entry"] = base64.b64encode(bytes(data)).decode()
    lines[26] = json.dumps(record).encode() + b"\n"
    export.write_bytes(b"".join(lines))
    result = hamkari(*args, "--public-key", str(key), env=env)
    assert_names(result, 27)
