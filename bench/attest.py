"""Report attestations (issue 20), on the audit section's served log: what `?attest=true`
adds to a report (pairs of the same request, plain and attested, the order alternating,
so a shared machine's drift hits both alike), and recomputing an attested report offline
from the log's export with the code `hamkari audit verify-report` runs."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.harness import Figure
from server.audit.report_check import verify_report

REPORT = "/v1/reports/who-what-where"


@dataclass
class Attesting:
    plain: Figure
    attested: Figure
    # attested minus plain, pair by pair
    extra: Figure
    rows: int


async def attest_pairs(client: httpx.AsyncClient, pairs: int, keep: Path) -> Attesting:
    """`pairs` pairs of GET REPORT and GET REPORT?attest=true; the last attested answer
    is written to `keep` (for the offline recomputation)."""
    for _ in range(5):  # warm: the connection, the report's first plan
        (await client.get(REPORT)).raise_for_status()
    plain: list[float] = []
    attested: list[float] = []
    rows = 0
    last = b""
    began = time.perf_counter()
    for pair in range(pairs):
        for attest in (False, True) if pair % 2 == 0 else (True, False):
            params = {"attest": "true"} if attest else {}
            start = time.perf_counter()
            answer = await client.get(REPORT, params=params)
            took = time.perf_counter() - start
            assert answer.status_code == 200, answer.text
            if attest:
                attested.append(took)
                assert "Hamkari-Attestation" in answer.headers
                last = answer.content
            else:
                plain.append(took)
                rows = len(answer.json()["rows"])
    seconds = time.perf_counter() - began
    await asyncio.to_thread(keep.write_bytes, last)
    extra = [a - p for a, p in zip(attested, plain, strict=True)]
    return Attesting(
        Figure("plain", pairs, seconds / 2, plain),
        Figure("attested", pairs, seconds / 2, attested),
        Figure("attested - plain", pairs, seconds, extra),
        rows,
    )


def recompute_offline(report: Path, export: Path, checkpoint: Path, key: Path) -> float:
    """Seconds for `hamkari audit verify-report REPORT --export --checkpoint --public-key`
    (signature, root of the first N entries, the export against the checkpoint, the
    report folded and rebuilt from the export, compared row by row); it must agree."""
    began = time.perf_counter()
    outcome = verify_report(report, export, [checkpoint], key)
    seconds = time.perf_counter() - began
    assert outcome.ok, outcome.problems
    return seconds
