"""Black-box: `hamkari migrate` and `hamkari serve` on a real database, as operators run them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port, hamkari


def test_migrate_is_idempotent(cli_env: dict[str, str]) -> None:
    # the database was cloned from a migrated template: nothing is pending
    result = hamkari("migrate", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "applied 0 migration(s)" in result.stdout


@pytest.mark.slow
def test_serve_answers_health_and_ready(cli_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    output = tmp_path / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=cli_env,
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, output.read_text()
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.2)
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert httpx.get(f"http://127.0.0.1:{port}/health").json() == {"status": "ok"}
        missing = httpx.get(f"http://127.0.0.1:{port}/nowhere")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.json()["status"] == 404
        # the worker writes its access log while it serves, one JSON line a request
        deadline = time.monotonic() + 5
        while '"route":"unmatched"' not in output.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        lines = [json.loads(line) for line in output.read_text().splitlines() if '"route"' in line]
        assert [(line["path"], line["status"]) for line in lines][-1] == ("/nowhere", 404)
        assert lines[-1]["request_id"] == missing.headers["x-request-id"]
    finally:
        server.terminate()
        server.wait(timeout=30)
