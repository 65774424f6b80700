"""Operating the server through the app: /metrics, /ready, the limits (body, batch, rate,
time) and the one JSON line each request leaves in the access log."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from server.app import create_app
from server.config import Settings
from server.observability.access import access_lines
from server.observability.limits import Deadlines, TokenBuckets
from server.observability.logs import OUR_LOGGERS, BufferedLineHandler, JsonFormatter
from server.observability.metrics import LATENCY_BUCKETS, observe_all
from tests.api.conftest import Api, bearer, ev
from tests.prometheus import sample


@pytest.fixture
def ops_settings(settings: Settings) -> Settings:
    return settings


@pytest.fixture
async def ops_client(ops_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(create_app(ops_settings)) as client:
        yield client


@pytest.fixture
def ops(ops_client: AsyncTestClient[Litestar], tokens: dict[str, str]) -> Api:
    return Api(ops_client, tokens)


async def test_metrics_count_requests_appends_and_projection_positions(ops: Api) -> None:
    before = (await ops.client.get("/metrics")).text
    await ops.setup_world()
    response = await ops.post("nrc", ev("ServiceDelivered"))
    assert response.status_code == 201, response.text
    assert (await ops.post("nrc", {"type": "Nonsense", "data": {}})).status_code == 400

    response = await ops.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    posts_201 = dict(method="POST", route="/v1/events", status="201")
    posts_400 = dict(method="POST", route="/v1/events", status="400")
    assert sample(text, "hamkari_http_requests_total", **posts_201) - sample(
        before, "hamkari_http_requests_total", **posts_201
    ) == pytest.approx(2)
    assert sample(text, "hamkari_http_requests_total", **posts_400) - sample(
        before, "hamkari_http_requests_total", **posts_400
    ) == pytest.approx(1)
    latency = dict(method="POST", route="/v1/events")
    assert sample(text, "hamkari_http_request_duration_seconds_count", **latency) > sample(
        before, "hamkari_http_request_duration_seconds_count", **latency
    )
    assert sample(text, "hamkari_events_appended_total") - sample(
        before, "hamkari_events_appended_total"
    ) == pytest.approx(5)
    assert sample(text, "hamkari_append_group_events_count") >= 2
    assert sample(text, "hamkari_database_up") == 1
    assert sample(text, "hamkari_log_head_position") == 5
    assert sample(text, "hamkari_db_pool_max_connections") >= 1
    assert "hamkari_appender_queue_depth" in text
    assert re.search(r'^hamkari_projection_position\{projection="deliveries"\} ', text, re.M)
    assert re.search(r'^hamkari_projection_lag_events\{projection="deliveries"\} ', text, re.M)


async def test_an_unknown_path_is_counted_under_one_label(ops: Api) -> None:
    assert (await ops.client.get("/no/such/thing/42")).status_code == 404
    text = (await ops.client.get("/metrics")).text
    assert sample(
        text, "hamkari_http_requests_total", method="GET", route="unmatched", status="404"
    )
    assert "/no/such/thing/42" not in text


@pytest.fixture
def lagging_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, projections_run=False, ready_max_lag=2)


async def test_ready_says_503_while_a_projection_is_too_far_behind(
    lagging_settings: Settings, tokens: dict[str, str]
) -> None:
    async with AsyncTestClient(create_app(lagging_settings)) as client:
        api = Api(client, tokens)
        assert (await client.get("/ready")).status_code == 200
        await api.setup_world()  # 4 events, and nobody runs the projections
        response = await client.get("/ready")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "projections behind the log" in response.json()["detail"]


@pytest.fixture
def limited_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings, rate_limit=0.5, rate_burst=3, max_batch_events=2, max_body_bytes=4096
    )


async def test_a_token_past_its_rate_gets_429_with_retry_after(
    limited_settings: Settings, tokens: dict[str, str]
) -> None:
    async with AsyncTestClient(create_app(limited_settings)) as client:
        statuses = [
            (await client.get("/v1/events", headers=bearer(tokens["auditor"]))).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited = await client.get("/v1/events", headers=bearer(tokens["auditor"]))
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["type"].endswith("/rate-limited")
        # the budget is the token's: another token still gets through
        other = await client.get("/v1/events", headers=bearer(tokens["admin"]))
        assert other.status_code == 200


async def test_batch_and_body_limits_come_from_the_settings(
    limited_settings: Settings, tokens: dict[str, str]
) -> None:
    async with AsyncTestClient(create_app(limited_settings)) as client:
        api = Api(client, tokens)
        three = [ev("PartnerRegistered", partner_id=f"p{i}") for i in range(3)]
        response = await api.post("admin", three)
        assert response.status_code == 400
        assert response.json()["type"].endswith("/batch-too-large")
        big = [ev("PartnerRegistered", partner_id="p1", name_en="x" * 5000)]
        response = await api.post("admin", big)
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("application/problem+json")


def test_token_buckets_refill_at_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=2, clock=lambda: now[0])
    assert [buckets.take(b"k") for _ in range(2)] == [0.0, 0.0]
    assert buckets.take(b"k") == pytest.approx(0.5)
    now[0] = 0.5
    assert buckets.take(b"k") == 0.0
    assert buckets.take(b"other") == 0.0


@pytest.fixture
def slow_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings, projections_run=False, request_timeout=0.3, report_wait_max=5.0
    )


async def test_a_request_past_the_timeout_gets_503_with_retry_after(
    slow_settings: Settings, tokens: dict[str, str]
) -> None:
    async with AsyncTestClient(create_app(slow_settings)) as client:
        api = Api(client, tokens)
        await api.setup_world()
        # no runner moves the projections, so this would wait report_wait_max (5 s)
        response = await api.get("coordinator", "/v1/reports/deliveries?min_position=4")
        assert response.status_code == 503
        assert response.json()["type"].endswith("/request-timeout")
        assert response.headers["retry-after"] == "2"
        # streamed answers are not cut: the timer stops when the response starts
        export = await api.get("auditor", "/v1/audit/export?from=1&to=4")
        assert export.status_code == 200, export.text


async def test_each_request_leaves_one_json_line(
    ops: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="hamkari.access"):
        response = await ops.get("auditor", "/v1/events", headers={"X-Request-Id": "trace-42"})
        unauthenticated = await ops.client.get("/v1/events")
    assert response.headers["x-request-id"] == "trace-42"
    assert unauthenticated.status_code == 401
    records = [r for r in caplog.records if r.name == "hamkari.access"]
    assert len(records) == 2
    line: dict[str, Any] = msgspec.json.decode(JsonFormatter().format(records[0]))
    assert line["request_id"] == "trace-42"
    assert line["principal"] == "test-auditor"
    assert line["role"] == "auditor"
    assert line["route"] == "/v1/events"
    assert line["status"] == 200
    assert line["duration_ms"] > 0
    assert line["logger"] == "hamkari.access"
    denied = msgspec.json.decode(JsonFormatter().format(records[1]))
    assert denied["status"] == 401
    assert denied["principal"] is None
    assert denied["request_id"] == unauthenticated.headers["x-request-id"]


def test_log_lines_are_written_in_batches_and_never_pile_up_unbounded() -> None:
    out = io.BytesIO()
    handler = BufferedLineHandler(out, interval=3600, max_lines=2)
    logger = logging.getLogger("hamkari.test-buffered")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for n in range(3):
            logger.warning("line %d", n, extra={"fields": {"n": n}})
        assert out.getvalue() == b""  # nothing written on the request's path
        handler.flush()
    finally:
        logger.removeHandler(handler)
        handler.close()
    lines = [msgspec.json.decode(line) for line in out.getvalue().splitlines()]
    assert [line.get("n") for line in lines[:2]] == [0, 1]
    assert lines[0]["message"] == "line 0" and lines[0]["level"] == "warning"
    assert lines[2] == {"level": "warning", "dropped_lines": 1}


def test_many_observations_at_once_read_as_one_at_a_time() -> None:
    registry = CollectorRegistry()
    one_by_one = Histogram("one_by_one", "", ["route"], buckets=LATENCY_BUCKETS, registry=registry)
    at_once = Histogram("at_once", "", ["route"], buckets=LATENCY_BUCKETS, registry=registry)
    # on a bound, between bounds, below the first, past the last
    values = [0.0005, 0.001, 0.0011, 0.05, 0.05, 0.3, 7.0, 60.0]
    for value in values:
        one_by_one.labels("/r").observe(value)
    observe_all(at_once.labels("/r"), values)
    text = generate_latest(registry).decode()
    lines = [line for line in text.splitlines() if line[:1] != "#" and "_created" not in line]
    singles = sorted(line.removeprefix("one_by_one") for line in lines if "one_by_one" in line)
    batched = sorted(line.removeprefix("at_once") for line in lines if "at_once" in line)
    assert singles == batched
    assert '_bucket{le="0.001",route="/r"} 2.0' in batched
    assert '_count{route="/r"} 8.0' in batched


def test_a_server_writes_access_lines_without_the_logging_machinery() -> None:
    """With the line writer installed (a server worker), access lines skip LogRecords and
    come out as the formatter would have written them."""
    out = io.BytesIO()
    handler = BufferedLineHandler(out, interval=3600)
    server_logger = logging.getLogger(OUR_LOGGERS[0])
    server_logger.addHandler(handler)
    levels = logging.getLogger(OUR_LOGGERS[1])
    level = levels.level
    levels.setLevel(logging.INFO)  # as configure_logging sets it
    try:
        write = access_lines()
        write({"request_id": "r-1", "status": 201})
        assert out.getvalue() == b""  # nothing written on the request's path
        handler.flush()
    finally:
        levels.setLevel(level)
        server_logger.removeHandler(handler)
        handler.close()
    line = msgspec.json.decode(out.getvalue())
    assert line.pop("ts").endswith("+00:00")
    assert line == {
        "level": "info",
        "logger": "hamkari.access",
        "message": "request",
        "request_id": "r-1",
        "status": 201,
    }


async def test_deadlines_cancel_only_what_has_not_answered_in_time() -> None:
    deadlines = Deadlines(0.2)

    async def request(answers: bool) -> str:
        task = asyncio.current_task()
        assert task is not None
        tick = deadlines.watch(task)
        try:
            if answers:
                deadlines.release(tick, task)  # its response started in time
            await asyncio.sleep(0.5)
            return "finished"
        except asyncio.CancelledError:
            return "expired" if deadlines.expired(task) else "cancelled by someone else"

    late, in_time, other = (
        asyncio.create_task(request(answers)) for answers in (False, True, False)
    )
    await asyncio.sleep(0)
    other.cancel()
    assert await late == "expired"
    assert await in_time == "finished"
    assert await other == "cancelled by someone else"
    assert not deadlines.expired(late)  # told once, then forgotten


def test_building_the_app_leaves_the_process_log_writer_running(settings: Settings) -> None:
    """A worker installs its line writer, then builds the app: the app must not close it
    (litestar's own logging set-up did, and the access log went nowhere)."""
    out = io.BytesIO()
    handler = BufferedLineHandler(out, interval=0.01)
    server_logger = logging.getLogger(OUR_LOGGERS[0])
    server_logger.addHandler(handler)
    try:
        create_app(settings)
        logging.getLogger("server.test-writer").warning("still written")
        deadline = time.monotonic() + 5
        while b"still written" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        # by the writer thread, before anything closes the handler
        assert b"still written" in out.getvalue()
    finally:
        server_logger.removeHandler(handler)
        handler.close()
