"""The witness against live servers: a directorate that shows two parties two histories
(two databases, one signing key, a common prefix) is caught by a witness that cosigned
one of them; `audit verify --quorum` counts cosignatures; a witness killed mid-round and
restarted never cosigns inconsistently."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from server.audit.cosignature import CosignerKey, read_cosigner
from server.audit.signing import split_note
from server.audit.witness import LogClient, load_state, run_round
from server.database.runtime import with_database
from tests import builders as b
from tests.conftest import ROOT, LiveServer, hamkari

pytestmark = pytest.mark.slow


def log_env(database_url: str, data_dir: Path, key: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "HAMKARI_DATA_DIR": str(data_dir),
        "HAMKARI_SIGNING_KEY": str(key),
        # each test signs when it means to
        "HAMKARI_CHECKPOINT_EVENTS": "0",
        "HAMKARI_CHECKPOINT_SECONDS": "0",
    }


def post(server: LiveServer, token: str, type_name: str, data: dict[str, Any]) -> None:
    response = httpx.post(
        f"{server.url}/v1/events",
        json={"type": type_name, "data": data},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text


def sign(server: LiveServer, token: str) -> None:
    response = httpx.post(
        f"{server.url}/v1/audit/checkpoints", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code in (200, 201), response.text


def served_checkpoint(server: LiveServer) -> str:
    return httpx.get(f"{server.url}/v1/audit/checkpoint").text


def witness_run(server: LiveServer, key: Path, state: Path, env: dict[str, str]) -> Any:
    return hamkari(
        "witness", "run", "--url", server.url, "--key", str(key), "--state", str(state), env=env
    )


def partner(slug: str) -> dict[str, Any]:
    return b.partner_registered(slug)


async def test_a_split_view_is_caught_and_a_quorum_is_counted(
    pg_admin_dsn: str, database_url: str, tmp_path: Path
) -> None:
    log_key = tmp_path / "log.key"
    env_a = log_env(database_url, tmp_path / "a", log_key)
    token = hamkari("token", "issue", "--role", "admin", "--name", "ops", env=env_a).stdout.strip()
    key, state = tmp_path / "nrc.pem", tmp_path / "nrc-state"
    made = hamkari("witness", "keygen", "witness.nrc.no", "--out", str(key), env=env_a)
    assert made.returncode == 0, made.stderr
    vkey = made.stdout.strip()
    assert CosignerKey.from_vkey(vkey).name == "witness.nrc.no" and "\n" not in vkey
    (tmp_path / "nrc.vkey").write_text(vkey + "\n")
    (tmp_path / "donor.vkey").write_text(
        hamkari(
            "witness",
            "keygen",
            "witness.donor.example",
            "--out",
            str(tmp_path / "d.pem"),
            env=env_a,
        ).stdout
    )

    a = LiveServer(env_a)
    a.start()
    try:
        post(a, token, "WitnessRegistered", b.witness_registered("witness.nrc.no", vkey))
        for slug in ("nrc", "drc", "irc"):
            post(a, token, "PartnerRegistered", partner(slug))
        sign(a, token)
        first = witness_run(a, key, state, env_a)
        assert first.returncode == 0 and first.stdout.startswith("cosigned size 4"), first
        old = tmp_path / "kept-checkpoint.txt"
        old.write_text(served_checkpoint(a))
    finally:
        a.stop()

    # the directorate's second view: the same log up to here, then other events
    admin = await asyncpg.connect(pg_admin_dsn)
    conn = await asyncpg.connect(database_url)
    name_a = await conn.fetchval("SELECT current_database()")
    await conn.close()
    name_b = f"{name_a}_b"
    await admin.execute(f'CREATE DATABASE "{name_b}" TEMPLATE "{name_a}"')
    env_b = log_env(with_database(pg_admin_dsn, name_b), tmp_path / "b", log_key)
    a, other = LiveServer(env_a), LiveServer(env_b)
    try:
        a.start()
        other.start()
        post(a, token, "PartnerRegistered", partner("unhcr"))
        sign(a, token)
        post(other, token, "PartnerRegistered", partner("hidden-one"))
        post(other, token, "PartnerRegistered", partner("hidden-two"))
        sign(other, token)

        extends = witness_run(a, key, state, env_a)
        assert extends.returncode == 0 and "cosigned size 5" in extends.stdout, extends
        cosigned_state = (state / "state.json").read_bytes()

        shown_other = witness_run(other, key, state, env_a)
        assert shown_other.returncode == 1, shown_other
        (refusal,) = shown_other.stderr.strip().splitlines()
        assert refusal.startswith("REFUSED: the consistency proof from the cosigned size 5 to 6")
        (evidence,) = (state / "evidence").iterdir()
        assert str(evidence) in refusal
        kept = {path.name: path.read_text() for path in evidence.iterdir()}
        assert set(kept) == {
            "shown-checkpoint.txt",
            "cosigned-checkpoint.txt",
            "failed-proof.json",
            "reason.txt",
        }
        assert kept["shown-checkpoint.txt"].split("\n")[1] == "6"
        assert kept["cosigned-checkpoint.txt"].split("\n")[1] == "5"
        assert (state / "state.json").read_bytes() == cosigned_state  # nothing cosigned
        served = served_checkpoint(other)
        assert "witness.nrc.no" not in served

        def verify(server: LiveServer, *witnesses: str, quorum: int) -> Any:
            keys = [arg for w in witnesses for arg in ("--witness-key", str(tmp_path / w))]
            return hamkari(
                "audit",
                "verify",
                "--url",
                server.url,
                "--checkpoint",
                str(old),
                "--token",
                token,
                *keys,
                "--quorum",
                str(quorum),
                env=env_a,
            )

        passed = verify(a, "nrc.vkey", quorum=1)
        assert passed.returncode == 0, passed.stderr
        short = verify(a, "nrc.vkey", "donor.vkey", quorum=2)
        assert short.returncode == 1
        assert "not cosigned by: witness.donor.example" in short.stderr
        assert "witness.nrc.no" not in short.stderr.split("not cosigned by:")[1]
        split = verify(other, "nrc.vkey", quorum=1)
        assert split.returncode == 1 and "not cosigned by: witness.nrc.no" in split.stderr
    finally:
        a.stop()
        other.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name_b}" WITH (FORCE)')
        await admin.close()


def test_a_witness_killed_mid_round_never_cosigns_inconsistently(
    database_url: str, tmp_path: Path
) -> None:
    env = log_env(database_url, tmp_path / "a", tmp_path / "log.key")
    token = hamkari("token", "issue", "--role", "admin", "--name", "ops", env=env).stdout.strip()
    key, state = tmp_path / "nrc.pem", tmp_path / "nrc-state"
    vkey = hamkari("witness", "keygen", "witness.nrc.no", "--out", str(key), env=env).stdout
    server = LiveServer(env)
    server.start()
    rng = random.Random(17)
    try:
        post(
            server, token, "WitnessRegistered", b.witness_registered("witness.nrc.no", vkey.strip())
        )
        # the first cosignature before any kill: every kill below interrupts a witness
        # that has a state to keep whole
        sign(server, token)
        first = witness_run(server, key, state, env)
        assert first.returncode == 0, first.stderr
        for round_ in range(8):
            witness = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "witness", "run", "--url", server.url,
                 "--key", str(key), "--state", str(state), "--every", "0.02"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            deadline = time.monotonic() + rng.uniform(1.0, 3.0)
            n = 0
            while time.monotonic() < deadline:
                post(server, token, "PartnerRegistered", partner(f"p{round_}-{n}"))
                n += 1
                sign(server, token)
            witness.send_signal(signal.SIGKILL)
            witness.wait()
            assert load_state(state) is not None  # the state file is whole after the kill
        last = witness_run(server, key, state, env)
        assert last.returncode == 0, last.stderr
        print(f"\nwitness round at a small log: {last.stdout.strip()}")
    finally:
        server.stop()

    async def cosignatures() -> list[Any]:
        conn = await asyncpg.connect(database_url)
        try:
            return list(
                await conn.fetch(
                    "SELECT s.checkpoint_size, s.cosigned_at, s.line, c.note"
                    " FROM cosignatures s JOIN checkpoints c ON c.size = s.checkpoint_size"
                    " WHERE witness_name = 'witness.nrc.no' ORDER BY s.checkpoint_size"
                )
            )
        finally:
            await conn.close()

    import asyncio

    rows = asyncio.run(cosignatures())
    assert len(rows) >= 2
    cosigner = CosignerKey.from_vkey(vkey)
    times = [row["cosigned_at"] for row in rows]
    assert times == sorted(times)
    for row in rows:
        text, _ = split_note(row["note"])
        assert cosigner.verify(text, row["line"]) is not None
    final = load_state(state)
    assert final is not None and final.size == rows[-1]["checkpoint_size"]
    assert final.cosignature == rows[-1]["line"]


class CutBeforeSubmitting(LogClient):
    """A round killed after the cosignature was kept but before it was posted."""

    def submit(self, note: str) -> None:
        raise KeyboardInterrupt


def test_a_round_cut_before_submitting_submits_the_same_line_next_time(
    database_url: str, tmp_path: Path
) -> None:
    env = log_env(database_url, tmp_path / "a", tmp_path / "log.key")
    token = hamkari("token", "issue", "--role", "admin", "--name", "ops", env=env).stdout.strip()
    key, state = tmp_path / "nrc.pem", tmp_path / "nrc-state"
    hamkari("witness", "keygen", "witness.nrc.no", "--out", str(key), env=env)
    cosigner = read_cosigner(key)
    server = LiveServer(env)
    server.start()
    try:
        post(
            server,
            token,
            "WitnessRegistered",
            b.witness_registered(cosigner.name, cosigner.key.vkey),
        )
        sign(server, token)
        with pytest.raises(KeyboardInterrupt):
            run_round(CutBeforeSubmitting(server.url), cosigner, state)
        kept = load_state(state)
        assert kept is not None
        assert cosigner.name not in httpx.get(f"{server.url}/v1/audit/checkpoint").text
        again = run_round(LogClient(server.url), cosigner, state, now=time.time() + 5)
        assert again.outcome == "resubmitted"
        served = httpx.get(f"{server.url}/v1/audit/checkpoint").text
        assert served.endswith(kept.cosignature + "\n")  # the kept line, not a second one
        assert run_round(LogClient(server.url), cosigner, state).outcome == "unchanged"
    finally:
        server.stop()
