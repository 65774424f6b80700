"""Witnessing at scale (issue 17), for the audit section's served log: one
`hamkari witness run --once` round (fetch, proof, verify, cosign, submit) across a large
gap, and what the server spends on each `POST /v1/audit/cosignatures`.

The witnesses are registered the way an admin does it (WitnessRegistered through the
API); one has a key file for the CLI, the others' keys stay in memory, each submitting
one cosignature of the same checkpoint (a witness cosigns a checkpoint once)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.harness import Figure
from server.audit.cosignature import Cosigner, write_new_key
from server.audit.signing import split_note

ROOT = Path(__file__).resolve().parents[1]
CLI_WITNESS = "witness.bench.cli"


@dataclass
class Witnesses:
    """The CLI's witness (key file, state directory) and the in-memory others."""

    key: Path
    state: Path
    others: list[Cosigner]


def register(url: str, admin_token: str, work: Path, others: int) -> Witnesses:
    """Make the keys and register every witness with WitnessRegistered events."""
    key = work / "witness-key.pem"
    cosigners = [write_new_key(key, CLI_WITNESS)]
    cosigners += [
        Cosigner(f"witness-{i}.bench", Ed25519PrivateKey.generate()) for i in range(others)
    ]
    events = [
        {
            "type": "WitnessRegistered",
            "data": {"witness_name": c.name, "verifier_key": c.key.vkey, "reason": "bench"},
        }
        for c in cosigners
    ]
    headers = {"Authorization": f"Bearer {admin_token}"}
    for start in range(0, len(events), 1000):  # the API's batch limit
        answer = httpx.post(
            f"{url}/v1/events", json=events[start : start + 1000], headers=headers, timeout=60
        )
        answer.raise_for_status()
    return Witnesses(key, work / "witness-state", cosigners[1:])


@dataclass
class WitnessRound:
    size: int
    # what the witness measures itself (server/audit/witness.py run_round)
    round_ms: float
    # the whole `hamkari witness run --once` process, interpreter start included
    process_seconds: float


def witness_round(url: str, witnesses: Witnesses) -> WitnessRound:
    """One `hamkari witness run --once` round; it must cosign (exit 0, "cosigned")."""
    command = [sys.executable, "-m", "server.cli", "witness", "run", "--once"]
    command += ["--url", url, "--key", str(witnesses.key), "--state", str(witnesses.state)]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    found = re.search(r"^cosigned size (\d+) as \S+ \((\d+) ms\)$", done.stdout, re.M)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"the witness round failed: {done.stdout!r} {done.stderr!r}")
    return WitnessRound(int(found.group(1)), float(found.group(2)), seconds)


async def cosignature_cost(url: str, others: list[Cosigner]) -> Figure:
    """Each witness cosigns the newest checkpoint once: the time of each submission
    (signature check against the registered key, the witness's last cosignature, the
    insert), signed ahead of the clock. No token: a witness has none."""
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        text, _ = split_note((await client.get("/v1/audit/checkpoint")).text)
        now = int(time.time())
        bodies = [f"{text}\n{c.cosign(text, now)}\n" for c in others]
        await client.get("/health")  # the connection is open before the clock starts
        took: list[float] = []
        began = time.perf_counter()
        for body in bodies:
            start = time.perf_counter()
            answer = await client.post("/v1/audit/cosignatures", content=body, headers=headers)
            took.append(time.perf_counter() - start)
            assert answer.status_code == 201, answer.text
        seconds = time.perf_counter() - began
    return Figure("POST /v1/audit/cosignatures", len(bodies), seconds, took)
