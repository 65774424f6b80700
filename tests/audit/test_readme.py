"""The README's "How an auditor verifies" commands, run as written against a running
`hamkari serve`: they pass on an honest log and fail, naming the position, after a
superuser rewrote one event."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import asyncpg
import pytest

from server.auth.tokens import issue
from tests.conftest import ROOT, LiveServer, hamkari

pytestmark = pytest.mark.slow

DEFAULT_URL = "http://127.0.0.1:8000"


def auditor_commands(block: int = 0) -> list[str]:
    """The shell lines of one block of the README's auditor section (the first: verify;
    the second: witnesses), comments dropped."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## How an auditor verifies", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) > block, "the auditor section lacks that sh block"
    return [
        line
        for line in blocks[block].splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def run(
    lines: list[str], url: str, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    script = "\n".join(line.replace(DEFAULT_URL, url) for line in lines)
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_the_readme_commands_verify_and_catch_a_rewrite(
    live_server: LiveServer, cli_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    loaded = hamkari("demo", "load", env=cli_env)
    assert loaded.returncode == 0, loaded.stderr
    work = tmp_path / "auditor"
    work.mkdir()
    (work / ".venv").symlink_to(ROOT / ".venv")  # the README runs from the checkout
    lines = auditor_commands()
    assert sum("hamkari audit verify" in line for line in lines) == 2
    assert any(DEFAULT_URL in line for line in lines)

    honest = run(lines, live_server.url, work, cli_env)
    assert honest.returncode == 0, honest.stdout + honest.stderr
    assert honest.stdout.count("OK: every entry re-hashed") == 2, honest.stdout
    assert "the log extends yours" not in honest.stdout  # nothing appended since: same size

    # one byte of event 5 changed by a superuser who disabled the guards
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute("ALTER TABLE events DISABLE TRIGGER USER")
        await owner.execute(
            "UPDATE events SET entry = overlay(entry PLACING 'x'::bytea FROM 3 FOR 1)"
            " WHERE position = 5"
        )
        token = await issue(owner, name="auditor-later", role="auditor", partner_id=None)
    finally:
        await owner.close()
    # the live check alone, as the auditor runs it months later
    later = run([lines[0], lines[-1]], live_server.url, work, {**cli_env, "HAMKARI_TOKEN": token})
    assert later.returncode == 1, later.stdout + later.stderr
    assert "first bad position: 5\n" in later.stderr, later.stderr


async def test_the_readme_witness_commands_cosign_and_meet_the_quorum(
    live_server: LiveServer, cli_env: dict[str, str], tmp_path: Path
) -> None:
    loaded = hamkari("demo", "load", env=cli_env)
    assert loaded.returncode == 0, loaded.stderr
    admin = hamkari("token", "issue", "--role", "admin", "--name", "readme-admin", env=cli_env)
    assert admin.returncode == 0, admin.stderr
    work = tmp_path / "witness"
    work.mkdir()
    (work / ".venv").symlink_to(ROOT / ".venv")
    env = {**cli_env, "ADMIN_TOKEN": admin.stdout.strip()}
    verify, witness = auditor_commands(0), auditor_commands(1)
    assert any("--quorum" in line for line in witness)

    done = run([*verify, *witness], live_server.url, work, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (work / "nrc.vkey").read_text().startswith("witness.nrc.no+")
    assert (work / "witness-state").is_dir()

    # the same auditor's quorum of two, with only one witness: refused, naming the gap
    short = [line.replace("--quorum 1", "--quorum 2") for line in verify[:1] + witness[-2:]]
    refused = run(short, live_server.url, work, env)
    assert refused.returncode != 0, refused.stdout + refused.stderr
