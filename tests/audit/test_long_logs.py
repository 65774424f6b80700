"""Long logs: the export is read a page at a time, so its memory does not grow with the
log; `hamkari audit verify` shows its progress when a person watches a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import tracemalloc
from pathlib import Path

import asyncpg
import msgspec

from server.audit.checkpoints import sign_checkpoint
from server.audit.export import export_pages
from server.audit.signing import Signer
from server.eventstore import EventStore
from tests.eventstore.helpers import new_event
from tests.test_cli_serve import ROOT

PADDING = "x" * 400  # ~1 kB lines, so that the whole export dwarfs one page


async def append(store: EventStore, count: int) -> None:
    for start in range(0, count, 1000):
        await store.append(
            [
                new_event(f"long-{n % 7}", data={"n": n, "padding": PADDING})
                for n in range(start, min(start + 1000, count))
            ]
        )


async def export_peak(pool: asyncpg.Pool, last: int, page: int) -> tuple[int, int, int]:
    """(bytes exported, pages, peak traced memory) reading the export and dropping it."""
    total = chunks = 0
    tracemalloc.start()
    try:
        async for chunk in export_pages(pool, 1, last, page):
            total += len(chunk)
            chunks += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return total, chunks, peak


async def test_the_export_streams_in_memory_that_does_not_grow_with_the_log(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await append(store, 4_000)
    short = await export_peak(pool, 4_000, page=500)
    await append(store, 16_000)
    long = await export_peak(pool, 20_000, page=500)
    size, pages, peak = long
    assert pages == 40 and size > 20_000 * 900
    # a page is ~0.5 MB of lines; reading 5 times the log costs about the same memory
    assert peak < 4 * 2**20 and peak < size / 5, (short, long)
    assert peak < 1.5 * short[2] + 2**20, (short, long)


def run_verify(args: list[str], env: dict[str, str], terminal: bool) -> tuple[int, str, str]:
    """`hamkari audit verify ...` with stderr on a pseudo-terminal (as a person runs it)
    or on a pipe (as a script does); (exit code, stdout, stderr)."""
    command = [sys.executable, "-m", "server.cli", "audit", "verify", *args]
    if not terminal:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        return done.returncode, done.stdout, done.stderr
    main, side = pty.openpty()
    try:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=side, text=True
        )
    finally:
        os.close(side)
    out: list[bytes] = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:  # EIO: the process closed its end
            break
        if not data:
            break
        out.append(data)
    os.close(main)
    stdout, _ = process.communicate(timeout=120)
    return process.returncode, stdout, b"".join(out).decode()


async def test_verify_shows_progress_on_a_terminal_and_not_in_a_pipe(
    store: EventStore, pool: asyncpg.Pool, signer: Signer, tmp_path: Path
) -> None:
    await append(store, 12_000)
    checkpoint, _ = await sign_checkpoint(pool, signer)
    (tmp_path / "checkpoint.json").write_bytes(msgspec.json.encode(checkpoint))
    (tmp_path / "key.pem").write_text(signer.verifier.pem)
    with (tmp_path / "export.ndjson").open("wb") as file:
        async for chunk in export_pages(pool, 1, 12_000):
            file.write(chunk)
    args = [str(tmp_path / "export.ndjson"), "--checkpoint", str(tmp_path / "checkpoint.json")]
    args += ["--public-key", str(tmp_path / "key.pem")]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    code, stdout, stderr = run_verify(args, env, terminal=True)
    assert code == 0, stdout + stderr
    assert "re-hashed 12,000 / 12,000 entries (100%)" in stderr
    assert "OK" in stdout

    code, stdout, stderr = run_verify(args, env, terminal=False)
    assert code == 0 and "OK" in stdout
    assert "/ 12,000 entries" not in stderr + stdout  # no progress lines in a log file
