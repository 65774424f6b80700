"""Worker CPU per request, in A/B pairs: `python -m bench.cpu [--pairs N] DIR [DIR ...]`.

Each DIR is a checkout of Hamkari (`git worktree add`); the server is started from it
(`python -m server.cli serve` with DIR as the working directory, so its code is what
runs) on a fresh database, driven by wrk with fresh ServiceDelivered events (single
events from 64 connections, then batches of 100 from 16), and the worker process's
CPU time (user + system, from /proc) is divided by the requests answered. Checkouts
are measured in turn, pair after pair, so that the machine's drift falls on all of
them alike: compare within a pair, not across runs. Throughput is printed beside it
but is the noisier figure on a shared machine."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.harness import Cluster
from bench.http import SCRIPT, free_port, prepare, process, require_wrk, run_wrk
from tests.builders import partner_registered, site_registered

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    source: str
    batch: int
    requests: int
    cpu_seconds: float
    events_per_second: float

    @property
    def ms_per_request(self) -> float:
        return self.cpu_seconds * 1000 / max(self.requests, 1)

    def line(self) -> str:
        per_event = self.ms_per_request * 1000 / self.batch
        return (
            f"  {self.source:<28} batch {self.batch:>3}: {self.ms_per_request:7.3f} ms a request"
            f" ({per_event:6.1f} µs an event)   {self.events_per_second:>9,.0f} ev/s"
        )


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def worker_of(server_pid: int) -> int:
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one worker under {server_pid}, found {children}")
    return int(children[0])


def measure(
    source: Path, dsn: str, tokens: dict[str, str], seconds: int, profile: Path | None = None
) -> list[Sample]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "HAMKARI_DATA_DIR": tempfile.mkdtemp(prefix="hamkari-bench-cpu-"),
        "HAMKARI_RATE_LIMIT": "0",
        "PYTHONPATH": str(source),
    }
    command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port)]
    samples = []
    with process(command, env, f"{url}/ready", cwd=source) as proc:
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        setup = [
            {"type": "PartnerRegistered", "data": partner_registered("nrc")},
            {"type": "SiteRegistered", "data": site_registered("gol-tappeh")},
        ]
        httpx.post(f"{url}/v1/events", json=setup, headers=admin, timeout=30).raise_for_status()
        worker = worker_of(proc.pid)
        for batch, connections in ((1, 64), (100, 16)):
            env_run = {
                "HAMKARI_TOKEN": tokens["nrc"],
                "HAMKARI_BATCH": str(batch),
                "HAMKARI_RUN": uuid.uuid4().hex[:8],
            }
            spy = None
            if profile is not None:
                out = profile / f"{source.name}-batch{batch}-{uuid.uuid4().hex[:6]}.txt"
                spy_command = [str(Path(sys.executable).with_name("py-spy")), "record"]
                spy_command += ["--pid", str(worker), "--gil", "--nonblocking", "--rate", "250"]
                spy_command += ["--format", "raw", "--duration", str(seconds), "-o", str(out)]
                spy = subprocess.Popen(
                    spy_command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            before = process_cpu(worker)
            load = run_wrk("", url, SCRIPT, env_run, batch, connections, seconds)
            used = process_cpu(worker) - before
            if spy is not None:
                spy.wait()
                print(summary(out, load.requests - load.failed), flush=True)
            answered = load.requests - load.failed
            samples.append(Sample(source.name, batch, answered, used, load.events_per_second))
    return samples


def summary(collapsed: Path, requests: int, top: int = 25) -> str:
    """py-spy's samples (collapsed stacks, `frame;frame;... count` a line) by function:
    the largest shares inclusive of what they call, and by themselves."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        # "name (path:line)" -> "name (path)": a function's lines together
        frames = [frame.rsplit(":", 1)[0] + ")" for frame in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
    lines = [f"  {collapsed.name}: {total} samples, {total / max(requests, 1):.4f} a request"]
    for title, shares in (("inclusive", inclusive), ("own", own)):
        lines.append(f"   {title}:")
        for frame, n in sorted(shares.items(), key=lambda item: -item[1])[:top]:
            lines.append(f"    {100 * n / max(total, 1):5.1f}%  {frame}")
    return "\n".join(lines)


async def main(sources: list[Path], pairs: int, seconds: int, profile: Path | None = None) -> None:
    require_wrk()
    results: dict[tuple[str, int], list[float]] = {}
    with Cluster() as cluster:
        for pair in range(1, pairs + 1):
            print(f"pair {pair}", flush=True)
            for source in sources:
                dsn = await cluster.fresh_database()
                tokens = await prepare(dsn)
                measured = await asyncio.to_thread(measure, source, dsn, tokens, seconds, profile)
                for sample in measured:
                    print(sample.line(), flush=True)
                    key = (source.name, sample.batch)
                    results.setdefault(key, []).append(sample.ms_per_request)
    print("medians of the pairs (ms of worker CPU a request):")
    for (name, batch), values in results.items():
        ordered = sorted(values)
        print(f"  {name:<28} batch {batch:>3}: {ordered[len(ordered) // 2]:7.3f}  {ordered}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sources", nargs="+", type=Path, help="checkouts to compare")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument(
        "--profile",
        type=Path,
        help="also record each run with py-spy (GIL samples) into this directory and print"
        " the largest inclusive shares (the CPU figures are then not comparable)",
    )
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    sources = [s.resolve() for s in args.sources]
    asyncio.run(main(sources, args.pairs, args.seconds, args.profile))
