"""The audit log at scale: what the tree costs an append, and at 1,000,000 events the
checkpoint signing time, proof latency over HTTP, a witness's round and the cost of a
cosignature (bench/witness.py), attesting a report and recomputing it offline
(bench/attest.py), export and offline verification rates."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from bench import attest, witness
from bench.eventstore import event
from bench.generated_log import World
from bench.harness import Cluster, Figure, settings_for, timed_callers
from server.audit.auditor import verify_offline
from server.audit.checkpoints import sign_checkpoint
from server.audit.signing import Signer, load_or_create_key
from server.auth.tokens import issue
from server.database.pool import create_pool
from server.eventstore import Appender, EventStore
from server.projections.catalog import PROJECTIONS
from server.projections.rebuild import rebuild

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 5


async def append_rate(dsn: str, audited: bool, callers: int, batch: int, total: int) -> Figure:
    """Appends with leaf hashes and the tree (audited), or with neither."""
    if not audited:
        conn = await asyncpg.connect(dsn)
        try:  # the unaudited appender leaves the frontier behind the head on purpose
            await conn.execute("ALTER TABLE log_head DROP CONSTRAINT log_head_frontier_at_head")
        finally:
            await conn.close()
    pool = await create_pool(dsn, settings_for(dsn), min_size=2, max_size=4)
    appender = Appender(pool, audited=audited)
    store = EventStore(pool, appender)
    rounds = max(1, total // (callers * batch))  # at a small --scale, one round at least
    prepared = [
        [[event(f"s-{n}") for _ in range(batch)] for _ in range(rounds)] for n in range(callers)
    ]
    try:

        async def append(n: int, i: int) -> int:
            await store.append(prepared[n][i])
            return batch

        label = f"{'with' if audited else 'without'} hashes+tree, {callers}x{batch}"
        return await timed_callers(label, callers, rounds, append)
    finally:
        await appender.close()
        await pool.close()


async def overhead(cluster: Cluster, callers: int, batch: int, total: int) -> list[str]:
    """Pairs of runs on fresh databases, the order alternating, so the drift of a shared
    machine hits both sides alike; the figure is the median of the pairs' ratios."""
    rates: dict[bool, list[float]] = {True: [], False: []}
    for pair in range(ROUNDS):
        for audited in (False, True) if pair % 2 == 0 else (True, False):
            dsn = await cluster.fresh_database()
            rates[audited].append((await append_rate(dsn, audited, callers, batch, total)).rate)
    ratio = statistics.median(a / b for a, b in zip(rates[True], rates[False], strict=True))
    return [
        f"  append, {callers} caller(s) x {batch} event(s), {ROUNDS} pairs:",
        f"    without leaf hashes and tree  median {statistics.median(rates[False]):>8,.0f} ev/s"
        f"   ({_runs(rates[False])})",
        f"    with leaf hashes and tree     median {statistics.median(rates[True]):>8,.0f} ev/s"
        f"   ({_runs(rates[True])})",
        f"    overhead, median of pairs     {100 * (1 - ratio):>8.1f} %        (target <= 10%)",
    ]


def _ms(figure: Figure) -> str:
    p50, p99 = figure.percentile(0.5) * 1000, figure.percentile(0.99) * 1000
    return f"p50 {p50:6.2f} ms   p99 {p99:6.2f} ms"


def _runs(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


async def build_log(dsn: str, total: int, world: int | None = None) -> Figure:
    """`total` events of the plausible generated log (bench/generated_log.py: what a
    report folds, so an attested report can be recomputed from its export) through the
    real appender: 4 callers, batches of 5,000, made ahead of the clock a chunk at a time
    (the bench times the store, not the generator). With `world`: the first `total`
    events of the log of `world` events (its first months, at its density)."""
    pool = await create_pool(dsn, settings_for(dsn), min_size=2, max_size=6)
    appender = Appender(pool)
    store = EventStore(pool, appender)
    batch, callers, chunk = 5000, 4, 200_000
    seconds = 0.0
    generated = World(world or total).new_events()
    try:
        for start in range(0, total, chunk):
            size = min(chunk, total - start)
            events = list(itertools.islice(generated, size))
            batches = [events[j : j + batch] for j in range(0, size, batch)]
            began = time.perf_counter()
            for k in range(0, len(batches), callers):
                # the appender's queue is first in, first out: the log keeps generation order
                await asyncio.gather(*(store.append(b) for b in batches[k : k + callers]))
            seconds += time.perf_counter() - began
    finally:
        await appender.close()
        await pool.close()
    # what autovacuum would do next anyway: not during the measurements below
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM ANALYZE events, merkle_nodes")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    return Figure(f"build the log, {callers} callers x {batch:,}", total, seconds)


async def signing(dsn: str, signer: Signer, rounds: int) -> list[float]:
    """Seconds per checkpoint, each after 1,000 more events (consistency proof included)."""
    pool = await create_pool(dsn, settings_for(dsn), min_size=2, max_size=4)
    appender = Appender(pool)
    store = EventStore(pool, appender)
    took: list[float] = []
    # more of the plausible log (another seed: fresh ids), without its registrations
    # (partners and sites of the same names are registered already)
    world = World(rounds * 1000 + 100, seed=8)
    more = itertools.islice(world.new_events(), len(world.partners) + len(world.sites), None)
    try:
        await sign_checkpoint(pool, signer)
        for _ in range(rounds):
            await store.append(list(itertools.islice(more, 1000)))
            began = time.perf_counter()
            _, new = await sign_checkpoint(pool, signer)
            took.append(time.perf_counter() - began)
            assert new
    finally:
        await appender.close()
        await pool.close()
    return took


def serve(dsn: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = 18000 + os.getpid() % 1000
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "HAMKARI_DATA_DIR": str(data_dir),
        "HAMKARI_CHECKPOINT_EVENTS": "0",
        "HAMKARI_CHECKPOINT_SECONDS": "0",
        # the projections would be catching up on the whole log meanwhile: not measured
        # here, and /ready must not wait for them
        "HAMKARI_PROJECTIONS": "off",
        "HAMKARI_READY_MAX_LAG": str(10**12),
        # one token asks thousands of proofs in a row: the per-token limit would answer 429
        "HAMKARI_RATE_LIMIT": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/ready", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("the bench server did not come up")
        time.sleep(0.2)


async def latencies(client: httpx.AsyncClient, path: str, params: list[dict[str, int]]) -> Figure:
    took: list[float] = []
    began = time.perf_counter()
    for p in params:
        start = time.perf_counter()
        response = await client.get(path, params=p)
        took.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
    return Figure(path, len(params), time.perf_counter() - began, took)


async def run(cluster: Cluster, scale: float = 1.0) -> list[str]:
    def n(count: int) -> int:
        return max(1, int(count * scale))

    lines = ["Audit log (fsync on)"]
    lines += await overhead(cluster, 16, 100, n(100_000))
    lines += await overhead(cluster, 64, 1, n(20_000))

    size = n(1_000_000)
    dsn = await cluster.fresh_database()
    work = Path(tempfile.mkdtemp(prefix="hamkari-bench-audit-"))
    try:
        witnesses, first = await _first_witness_round(dsn, work, max(20, int(300 * scale)))
        build = await build_log(dsn, size)
        lines.append(f"  at {size:,} events:")
        lines.append("  " + build.line().replace(" ev/s", " ev/s (with the tree)"))
        lines += await _served_figures(dsn, work, witnesses, first, scale)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the export alone is ~680 MB
    return lines


def _signer(work: Path) -> Signer:
    """The log's key, where the served server (HAMKARI_DATA_DIR=work/var) reads it."""
    return Signer("hamkari.tehran/log", load_or_create_key(work / "var" / "signing-key.pem"))


async def _first_witness_round(
    dsn: str, work: Path, others: int
) -> tuple[witness.Witnesses, witness.WitnessRound]:
    """Before the log is built: register the witnesses (one for the CLI, `others` for
    the cosignature cost), sign a checkpoint of that small log and let the CLI's
    witness cosign it, so that its round at 1,000,000 proves consistency across the
    whole build."""
    owner = await asyncpg.connect(dsn)
    try:
        admin = await issue(owner, name="bench-admin", role="admin", partner_id=None)
    finally:
        await owner.close()
    process, url = serve(dsn, work / "var")
    try:
        witnesses = await asyncio.to_thread(witness.register, url, admin, work, others)
        pool = await create_pool(dsn, settings_for(dsn), min_size=1, max_size=2)
        try:
            await sign_checkpoint(pool, _signer(work))
        finally:
            await pool.close()
        first = await asyncio.to_thread(witness.witness_round, url, witnesses)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return witnesses, first


async def _served_figures(
    dsn: str,
    work: Path,
    witnesses: witness.Witnesses,
    first: witness.WitnessRound,
    scale: float,
) -> list[str]:
    """Signing, rebuilding the projections (the reports attested below read them),
    proofs, a witness round, cosignatures, attested reports, export and offline
    verification and recomputation, on the built log."""
    lines: list[str] = []
    took = await signing(dsn, _signer(work), 20)
    signed = Figure("", len(took), sum(took), took)
    lines.append(f"    checkpoint signing (after 1,000 more)    {_ms(signed)}")
    pool = await create_pool(dsn, settings_for(dsn), min_size=1, max_size=2)
    try:
        began = time.perf_counter()
        await rebuild(pool, PROJECTIONS.values())
        rebuilt = time.perf_counter() - began
    finally:
        await pool.close()
    lines.append(f"    projections rebuilt for the reports       {rebuilt:8.1f} s")
    owner = await asyncpg.connect(dsn)
    try:
        token = await issue(owner, name="bench-auditor", role="auditor", partner_id=None)
        head = int(await owner.fetchval("SELECT last_position FROM log_head"))
    finally:
        await owner.close()
    process, url = serve(dsn, work / "var")
    try:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
            rng = random.Random(1)
            await latencies(client, "/health", [{}] * 200)  # warm up connections and caches
            floor = await latencies(client, "/health", [{}] * 1000)
            lines.append(f"    GET /health over HTTP (the floor here)   {_ms(floor)}")
            inclusion = await latencies(
                client,
                "/v1/audit/proofs/inclusion",
                [{"position": rng.randint(1, head), "size": head} for _ in range(1000)],
            )
            consistency = await latencies(
                client,
                "/v1/audit/proofs/consistency",
                [{"from": rng.randint(1, head - 1), "to": head} for _ in range(1000)],
            )
            for figure, name in ((inclusion, "inclusion"), (consistency, "consistency")):
                label = f"{name} proof over HTTP"
                lines.append(f"    {label:<40} {_ms(figure)}   (target p99 < 10 ms)")
            lines += await _witness_figures(url, witnesses, first)
            lines += await _attest_figures(client, work, max(20, int(200 * scale)))
            checkpoint = await client.get(
                "/v1/audit/checkpoint", headers={"Accept": "application/json"}
            )
            (work / "checkpoint.json").write_bytes(checkpoint.content)
            (work / "key.pem").write_bytes((await client.get("/v1/audit/public-key")).content)
            export = work / "export.ndjson"
            began = time.perf_counter()
            with export.open("wb") as out:
                async with client.stream("GET", "/v1/audit/export") as response:
                    async for chunk in response.aiter_raw(1 << 20):
                        out.write(chunk)
            seconds = time.perf_counter() - began
        megabytes = export.stat().st_size / 2**20
        lines.append(
            f"    export over HTTP to a file                {head / seconds:>11,.0f} ev/s"
            f"   ({megabytes / seconds:,.0f} MiB/s, {megabytes:,.0f} MiB)"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    began = time.perf_counter()
    report = await asyncio.to_thread(
        verify_offline, export, [work / "checkpoint.json"], work / "key.pem", None
    )
    seconds = time.perf_counter() - began
    assert report.ok, report.problems
    lines.append(
        f"    offline verification (re-hash, root, sig) {head / seconds:>11,.0f} ev/s"
        "   (target >= 200,000)"
    )
    recomputed = await asyncio.to_thread(
        attest.recompute_offline,
        work / "attested.json",
        export,
        work / "checkpoint.json",
        work / "key.pem",
    )
    lines.append(
        f"    recompute an attested report offline      {recomputed:8.1f} s"
        f"   (verify-report over the {head:,}-event export)"
    )
    return lines


async def _witness_figures(
    url: str, witnesses: witness.Witnesses, first: witness.WitnessRound
) -> list[str]:
    done = await asyncio.to_thread(witness.witness_round, url, witnesses)
    cost = await witness.cosignature_cost(url, witnesses.others)
    return [
        f"    witness round, size {first.size:,} -> {done.size:,}"
        f"   {done.round_ms:8.0f} ms   (fetch, proof, verify, cosign, submit;"
        f" the process {done.process_seconds:.2f} s)",
        f"    POST /v1/audit/cosignatures, {len(cost.latencies)} witnesses  {_ms(cost)}",
    ]


async def _attest_figures(client: httpx.AsyncClient, work: Path, pairs: int) -> list[str]:
    found = await attest.attest_pairs(client, pairs, work / "attested.json")
    return [
        f"    GET {attest.REPORT} ({found.rows:,} rows), {pairs} pairs:",
        f"      plain                                 {_ms(found.plain)}",
        f"      ?attest=true                          {_ms(found.attested)}",
        f"      extra for attesting, pair by pair     {_ms(found.extra)}",
    ]
