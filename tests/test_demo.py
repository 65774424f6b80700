"""`hamkari demo load`: a living record for a new user, loaded through the rules, and
safe to load twice."""

from __future__ import annotations

import json
import re
from pathlib import Path

import asyncpg

from tests.conftest import hamkari


async def test_demo_load_twice_appends_once_and_prints_tokens(
    cli_env: dict[str, str], pool: asyncpg.Pool, tmp_path: Path
) -> None:
    first = hamkari("demo", "load", env=cli_env)
    assert first.returncode == 0, first.stderr
    appended = int(re.search(r"(\d+) event\(s\) appended", first.stdout).group(1))  # type: ignore[union-attr]
    assert appended >= 70
    tokens = dict(re.findall(r"^\s+(demo-[a-z-]+)\s+(hmk_\S+)$", first.stdout, re.M))
    assert set(tokens) == {
        "demo-admin",
        "demo-coordinator",
        "demo-auditor",
        "demo-nrc",
        "demo-ayandeh",
    }

    second = hamkari("demo", "load", env=cli_env)
    assert second.returncode == 0, second.stderr
    assert "0 event(s) appended" in second.stdout
    assert dict(re.findall(r"^\s+(demo-[a-z-]+)\s+(hmk_\S+)$", second.stdout, re.M)) == tokens
    assert json.loads((tmp_path / "demo-tokens.json").read_text()) == tokens

    count = await pool.fetchval("SELECT count(*) FROM events")
    assert count == appended
    types = {r["type"] for r in await pool.fetch("SELECT DISTINCT type FROM events")}
    assert {
        "MeetingHeld",
        "ServiceDelivered",
        "DisbursementRecorded",
        "CommitmentFulfilled",
        "PledgeCancelled",
        "DeliveryCorrected",
        "ChallengeReported",
    } <= types
