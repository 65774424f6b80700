"""The README's first session, run as written against a real server with the demo data:
what the front door promises must stay true."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT, LiveServer, load_demo

README = ROOT / "README.md"


def session_blocks() -> list[str]:
    """The shell blocks of the README's "A first session" section, in order."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## A first session", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def run_block(block: str, server: LiveServer, workdir: Path) -> subprocess.CompletedProcess[str]:
    script = "set -euo pipefail\n" + block.replace("http://127.0.0.1:8000", server.url)
    return subprocess.run(
        ["bash", "-c", script], cwd=workdir, capture_output=True, text=True, timeout=60
    )


def test_the_first_session_posts_an_event_and_reads_it_in_the_report(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**cli_env, "HAMKARI_DATA_DIR": str(tmp_path / "var")}
    load_demo(env)
    server = LiveServer(env)
    server.start()
    try:
        post_and_read, bad_input, spreadsheet = session_blocks()
        first = run_block(post_and_read, server, tmp_path)
        assert first.returncode == 0, first.stderr
        receipt_line, report_line = first.stdout.strip().splitlines()
        receipt = json.loads(receipt_line)
        assert receipt["type"] == "ServiceDelivered"
        assert receipt["stream"] == "delivery-5d0c1b7a-8f7e-4b0a-9d2c-1e3f4a5b6c7d"
        report = json.loads(report_line)
        assert report["as_of_position"] >= receipt["position"]
        [row] = [
            r
            for r in report["rows"]
            if (r["site_id"], r["sector"], r["month"]) == ("gol-tappeh", "education", "1405-08")
        ]
        assert row["women"] >= 14 and row["month_label_fa"] == "آبان ۱۴۰۵"

        # run again: the retry returns the same receipt and the figures do not move
        second = run_block(post_and_read, server, tmp_path)
        assert second.returncode == 0, second.stderr
        again_receipt, again_report = second.stdout.strip().splitlines()
        assert json.loads(again_receipt) == receipt
        [again_row] = [
            r
            for r in json.loads(again_report)["rows"]
            if (r["site_id"], r["sector"], r["month"]) == ("gol-tappeh", "education", "1405-08")
        ]
        assert again_row == row

        bad = run_block(post_and_read.split("RECEIPT=")[0] + bad_input, server, tmp_path)
        problem = json.loads(bad.stdout)
        assert problem["status"] == 400
        assert any(error["path"].startswith("data.") for error in problem["errors"])

        # the spreadsheet: a dry run appends nothing, the import appends every row once
        examples = tmp_path / "docs" / "examples"
        examples.mkdir(parents=True)
        shutil.copy(ROOT / "docs" / "examples" / "nrc-deliveries-1405-07.xlsx", examples)
        imported = run_block(post_and_read.split("RECEIPT=")[0] + spreadsheet, server, tmp_path)
        assert imported.returncode == 0, imported.stderr + imported.stdout
        dry, done = (json.loads(line) for line in imported.stdout.strip().splitlines())
        assert dry["dry_run"] is True and dry["errors"] == [] and dry["new"] == dry["rows"] > 0
        assert len(done["receipts"]) == dry["rows"]
        again = run_block(post_and_read.split("RECEIPT=")[0] + spreadsheet, server, tmp_path)
        dry_again, done_again = (json.loads(line) for line in again.stdout.strip().splitlines())
        assert dry_again["new"] == 0 and dry_again["unchanged"] == dry["rows"]
        # the second import is the same events: their original receipts, nothing new
        assert [r["position"] for r in done_again["receipts"]] in (
            [],
            [r["position"] for r in done["receipts"]],
        )
    finally:
        server.stop()
