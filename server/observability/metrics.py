"""Prometheus metrics: what each worker counts (requests, appends, pool use) and what a
scrape reads from the database (log head, projection positions and lag).

With several workers (`hamkari serve --workers N`) prometheus_client runs in its
multiprocess mode: `hamkari serve` points PROMETHEUS_MULTIPROC_DIR at a fresh directory
before the workers fork, each worker's counters and histograms live in files there, and
whichever worker answers /metrics adds them all up. A worker's own gauges (pool, queue)
are summed over the live workers. Figures that belong to the database, not to a
worker, are read from it at scrape time, so every worker gives the same answer."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import os
from collections import Counter as Tally
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server.database.replica import ReplicaCollector, replica_lag
from server.eventstore import Appender
from server.eventstore.appender import UNAVAILABLE

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# without its charset: litestar adds `; charset=utf-8` to every text/ media type itself
CONTENT_TYPE = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")

# seconds; from a cached report (~1 ms) to the request timeout
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)

REQUESTS = Counter(
    "hamkari_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "hamkari_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge(
    "hamkari_http_requests_in_flight",
    "Requests being handled now",
    multiprocess_mode="livesum",
)
RATE_LIMITED = Counter("hamkari_rate_limited", "Requests refused with 429 (per-token rate limit)")
TIMED_OUT = Counter(
    "hamkari_request_timeouts", "Requests answered 503 after HAMKARI_REQUEST_TIMEOUT seconds"
)
EVENTS_APPENDED = Counter("hamkari_events_appended", "Events committed to the log")
APPEND_GROUPS = Counter("hamkari_append_groups", "Group commits of the appender")
GROUP_EVENTS = Histogram(
    "hamkari_append_group_events", "Events written by one group commit", buckets=SIZE_BUCKETS
)
GROUP_REQUESTS = Histogram(
    "hamkari_append_group_requests",
    "Append requests served by one group commit",
    buckets=SIZE_BUCKETS,
)
COMMIT_SECONDS = Histogram(
    "hamkari_append_commit_seconds",
    "Time to write and commit one group",
    buckets=LATENCY_BUCKETS,
)
QUEUE_DEPTH = Gauge(
    "hamkari_appender_queue_depth",
    "Append requests waiting for the next group commit",
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "hamkari_db_pool_connections", "Connections the pool holds open", multiprocess_mode="livesum"
)
POOL_IDLE = Gauge(
    "hamkari_db_pool_idle_connections",
    "Open connections not lent to a request",
    multiprocess_mode="livesum",
)
POOL_MAX = Gauge(
    "hamkari_db_pool_max_connections",
    "The pool's upper bound (HAMKARI_POOL_MAX), summed over workers",
    multiprocess_mode="livesum",
)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def record_group(requests: int, events: int, seconds: float) -> None:
    """The appender's observer: one committed group."""
    APPEND_GROUPS.inc()
    EVENTS_APPENDED.inc(events)
    GROUP_EVENTS.observe(events)
    GROUP_REQUESTS.observe(requests)
    COMMIT_SECONDS.observe(seconds)


@dataclass
class RequestTally:
    """This worker's requests, counted in plain memory as they are answered and added to
    the metrics above by the Sampler, every second and before each scrape.

    A change to a multiprocess metric is a write to a shared file and a pid check (a
    system call); made per request, the counter, histogram and in-flight gauge cost
    a single post more than its access log line (docs/benchmarks.md)."""

    in_flight: int = 0
    _counts: Tally[tuple[str, str, int]] = field(default_factory=Tally)
    _seconds: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        self._counts[method, route, status] += 1
        durations = self._seconds.get((method, route))
        if durations is None:
            self._seconds[method, route] = [seconds]
        else:
            durations.append(seconds)

    def flush(self) -> None:
        counts, self._counts = self._counts, Tally()
        timed, self._seconds = self._seconds, {}
        for (method, route, status), n in counts.items():
            REQUESTS.labels(method, route, str(status)).inc(n)
        for (method, route), durations in timed.items():
            observe_all(REQUEST_SECONDS.labels(method, route), durations)
        IN_FLIGHT.set(self.in_flight)


def observe_all(histogram: Histogram, values: Sequence[float]) -> None:
    """`histogram.observe(v)` for each value, with one write per bucket touched.

    prometheus_client has no call for many observations; this adds to the buckets and
    sum its `observe` adds to (tests/api/test_operations.py compares the two)."""
    bounds = histogram._upper_bounds
    per_bucket = Tally(bisect.bisect_left(bounds, v) for v in values)
    for index, n in per_bucket.items():
        histogram._buckets[index].inc(n)
    histogram._sum.inc(sum(values))


@dataclass
class Sampler:
    """Copies this worker's pool and queue figures into gauges and its request tally into
    the request metrics, now and every second."""

    pool: asyncpg.Pool
    appender: Appender
    requests: RequestTally = field(default_factory=RequestTally)
    interval: float = 1.0
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def sample(self) -> None:
        self.requests.flush()
        QUEUE_DEPTH.set(self.appender.queue_depth)
        POOL_OPEN.set(self.pool.get_size())
        POOL_IDLE.set(self.pool.get_idle_size())
        POOL_MAX.set(self.pool.get_max_size())

    def start(self) -> None:
        self.sample()
        self._task = asyncio.create_task(self._run(), name="hamkari-metrics-sampler")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.sample()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.requests.flush()  # the last requests' figures are counted
        if multiprocess_dir():
            # this worker's live gauges leave the sums; its counters stay counted
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class DatabaseFigures:
    """What the database says at scrape time; `up` False when it did not answer."""

    up: bool
    head: int = 0
    positions: dict[str, int] = field(default_factory=dict)
    lag_seconds: dict[str, float] = field(default_factory=dict)
    stopped: dict[str, bool] = field(default_factory=dict)


async def read_database_figures(pool: asyncpg.Pool) -> DatabaseFigures:
    try:
        async with asyncio.timeout(1.0):
            rows = await pool.fetch(
                """
                SELECT h.last_position AS head, p.name, p.position, p.error IS NOT NULL AS stopped,
                       extract(epoch FROM now() - (SELECT e.recorded_at FROM events e
                                                   WHERE e.position = p.position + 1))::float8
                         AS behind
                FROM log_head h LEFT JOIN projections p ON true
                """
            )
    except (*UNAVAILABLE, asyncpg.PostgresError) as exc:
        log.warning("metrics: database figures unavailable (%s)", exc)
        return DatabaseFigures(up=False)
    named = [r for r in rows if r["name"] is not None]
    return DatabaseFigures(
        up=True,
        head=int(rows[0]["head"]) if rows else 0,
        positions={r["name"]: int(r["position"]) for r in named},
        lag_seconds={r["name"]: max(0.0, r["behind"] or 0.0) for r in named},
        stopped={r["name"]: bool(r["stopped"]) for r in named},
    )


class _DatabaseCollector(Collector):
    def __init__(self, figures: DatabaseFigures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        f = self.figures
        yield GaugeMetricFamily(
            "hamkari_database_up", "1 when the database answered this scrape", value=int(f.up)
        )
        if not f.up:
            return
        yield GaugeMetricFamily(
            "hamkari_log_head_position", "The last position in the log", value=f.head
        )
        families = {
            "position": GaugeMetricFamily(
                "hamkari_projection_position",
                "The last log position each projection has applied",
                labels=["projection"],
            ),
            "lag": GaugeMetricFamily(
                "hamkari_projection_lag_events",
                "Events in the log that each projection has not applied yet",
                labels=["projection"],
            ),
            "seconds": GaugeMetricFamily(
                "hamkari_projection_lag_seconds",
                "Age of the oldest event each projection has not applied yet",
                labels=["projection"],
            ),
            "stopped": GaugeMetricFamily(
                "hamkari_projection_stopped",
                "1 when an event stopped the projection (see /v1/admin/projections)",
                labels=["projection"],
            ),
        }
        for name, position in sorted(f.positions.items()):
            families["position"].add_metric([name], position)
            families["lag"].add_metric([name], max(0, f.head - position))
            families["seconds"].add_metric([name], f.lag_seconds[name])
            families["stopped"].add_metric([name], int(f.stopped[name]))
        yield from families.values()


def forget_dead_workers(directory: str) -> None:
    """Take the gauges of workers that died without saying so (SIGKILL, the OOM killer)
    out of the live sums; their counters stay counted."""
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
        except PermissionError:
            pass  # alive, another user's


async def exposition(
    pool: asyncpg.Pool, sampler: Sampler | None, *, read_pool: asyncpg.Pool | None = None
) -> bytes:
    """The Prometheus text for one scrape; with the read replica's lag when there is one."""
    if sampler is not None:
        sampler.sample()
    figures = await read_database_figures(pool)
    scrape = CollectorRegistry()
    scrape.register(_DatabaseCollector(figures))
    if read_pool is not None and read_pool is not pool:
        scrape.register(ReplicaCollector(await replica_lag(pool, read_pool)))
    directory = multiprocess_dir()
    if directory:
        forget_dead_workers(directory)
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers, path=directory)  # type: ignore[no-untyped-call]
        counted = generate_latest(workers)
    else:
        counted = generate_latest(REGISTRY)
    return counted + generate_latest(scrape)
