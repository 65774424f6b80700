"""Liveness and readiness: /health says the process is up, /ready that the database
answers, its schema is current, no projection is stopped on an error and none is
further behind the log than HAMKARI_READY_MAX_LAG events."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from litestar import Controller, Response, get
from litestar.datastructures import State

from server.api.problems import problem_response
from server.database.migrate import available_migrations
from server.database.replica import replica_lag
from server.eventstore.appender import UNAVAILABLE


class HealthController(Controller):
    tags = ["operations"]

    @get("/health", operation_id="health", summary="Is the process up")
    async def health(self) -> dict[str, str]:
        """Answers 200 while the process runs; touches nothing else."""
        return {"status": "ok"}

    @get("/ready", operation_id="ready", summary="Can the server take traffic")
    async def ready(self, state: State) -> Response[Any]:
        """200 when the database answers within a second, every migration is applied, no
        projection is stopped on an error (whatever its lag) and every projection is
        within `HAMKARI_READY_MAX_LAG` events of the log head, and the read replica (when
        there is one) answers and is within `HAMKARI_READ_MAX_LAG` events of the primary;
        503 with the reason otherwise."""
        pool: asyncpg.Pool = state.pool
        try:
            async with asyncio.timeout(1.0):
                applied = {
                    row["version"]
                    for row in await pool.fetch("SELECT version FROM schema_migrations")
                }
                troubled = await pool.fetch(
                    "SELECT p.name, h.last_position - p.position AS lag,"
                    " p.error IS NOT NULL AS stopped, p.error_position"
                    " FROM projections p CROSS JOIN log_head h"
                    " WHERE h.last_position - p.position > $1 OR p.error IS NOT NULL"
                    " ORDER BY p.name",
                    state.settings.ready_max_lag,
                )
        except (*UNAVAILABLE, asyncpg.PostgresError) as exc:
            return problem_response(
                503, "not-ready", "Not ready", f"database unavailable: {exc}", retry_after=2
            )
        missing = [m.version for m in available_migrations() if m.version not in applied]
        if missing:
            return problem_response(
                503, "not-ready", "Not ready", f"migrations not applied: {', '.join(missing)}"
            )
        # a stopped projection is not ready however small its lag: the log may simply
        # be quiet, and every `min_position` read past its stop would answer 503
        stopped = [row for row in troubled if row["stopped"]]
        if stopped:
            where = ", ".join(
                f"{row['name']} (at position {row['error_position']})" for row in stopped
            )
            return problem_response(
                503,
                "not-ready",
                "Not ready",
                f"projections stopped on an error: {where}; see GET /v1/admin/projections",
            )
        if troubled:
            lagging = ", ".join(f"{row['name']} ({row['lag']} events)" for row in troubled)
            return problem_response(
                503, "not-ready", "Not ready", f"projections behind the log: {lagging}"
            )
        read_pool: asyncpg.Pool | None = state.get("read_pool")
        if read_pool is not None and read_pool is not pool:
            lag = await replica_lag(pool, read_pool)
            if not lag.up:
                return problem_response(
                    503, "not-ready", "Not ready", "the read replica is unavailable", retry_after=2
                )
            if lag.events is not None and lag.events > state.settings.read_max_lag:
                return problem_response(
                    503,
                    "not-ready",
                    "Not ready",
                    f"the read replica is {lag.events} events ({lag.seconds:.1f} s) behind the"
                    f" primary, more than HAMKARI_READ_MAX_LAG ({state.settings.read_max_lag})",
                    retry_after=2,
                )
        return Response({"status": "ready", "migrations": len(applied)})
