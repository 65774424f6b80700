"""How far the read replica (HAMKARI_READ_DATABASE_URL) is behind the primary: in log
events and in seconds of replay, for /ready and /metrics.

Events are the log's own measure: the primary's head minus the head the standby has
replayed. Seconds are the age of the last transaction the standby replayed, counted
only while it is behind (an idle primary sends nothing to replay, and that is no lag)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server.eventstore.appender import UNAVAILABLE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplicaLag:
    """`up` False: the replica did not answer. `events` None: the primary did not."""

    up: bool
    events: int | None = None
    seconds: float = 0.0
    # False once the standby was promoted: it is a primary now, and lags nothing
    in_recovery: bool = True


async def replica_lag(primary: asyncpg.Pool, replica: asyncpg.Pool) -> ReplicaLag:
    try:
        async with asyncio.timeout(1.0):
            row = await replica.fetchrow(
                "SELECT h.last_position AS head, pg_is_in_recovery() AS in_recovery,"
                " extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS age"
                " FROM log_head h"
            )
    except (*UNAVAILABLE, asyncpg.PostgresError) as exc:
        log.warning("read replica unavailable (%s)", exc)
        return ReplicaLag(up=False)
    assert row is not None
    try:
        async with asyncio.timeout(1.0):
            head = int(await primary.fetchval("SELECT last_position FROM log_head"))
    except (*UNAVAILABLE, asyncpg.PostgresError):
        return ReplicaLag(up=True, in_recovery=row["in_recovery"])
    behind = max(0, head - int(row["head"]))
    return ReplicaLag(
        up=True,
        events=behind,
        seconds=max(0.0, row["age"] or 0.0) if behind else 0.0,
        in_recovery=row["in_recovery"],
    )


class ReplicaCollector(Collector):
    """The replica's figures for one scrape."""

    def __init__(self, lag: ReplicaLag) -> None:
        self.lag = lag

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "hamkari_replica_up", "1 when the read replica answered this scrape", value=self.lag.up
        )
        if self.lag.events is None:
            return
        yield GaugeMetricFamily(
            "hamkari_replica_lag_events",
            "Log events the primary has and the read replica has not replayed yet",
            value=self.lag.events,
        )
        yield GaugeMetricFamily(
            "hamkari_replica_lag_seconds",
            "Age of the last transaction the read replica replayed, while it is behind",
            value=self.lag.seconds,
        )
