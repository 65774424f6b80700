"""Liveness and readiness: /health says the process is up, /ready that the database
answers, its schema is current and no projection is further behind the log than
HAMKARI_READY_MAX_LAG events."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from litestar import Controller, Response, get
from litestar.datastructures import State

from server.api.problems import problem_response
from server.database.migrate import available_migrations
from server.eventstore.appender import UNAVAILABLE


class HealthController(Controller):
    tags = ["operations"]

    @get("/health", operation_id="health", summary="Is the process up")
    async def health(self) -> dict[str, str]:
        """Answers 200 while the process runs; touches nothing else."""
        return {"status": "ok"}

    @get("/ready", operation_id="ready", summary="Can the server take traffic")
    async def ready(self, state: State) -> Response[Any]:
        """200 when the database answers within a second, every migration is applied and
        every projection is within `HAMKARI_READY_MAX_LAG` events of the log head (a
        stopped projection soon is not); 503 with the reason otherwise."""
        pool: asyncpg.Pool = state.pool
        try:
            async with asyncio.timeout(1.0):
                applied = {
                    row["version"]
                    for row in await pool.fetch("SELECT version FROM schema_migrations")
                }
                behind = await pool.fetch(
                    "SELECT p.name, h.last_position - p.position AS lag"
                    " FROM projections p CROSS JOIN log_head h"
                    " WHERE h.last_position - p.position > $1 ORDER BY p.name",
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
        if behind:
            lagging = ", ".join(f"{row['name']} ({row['lag']} events)" for row in behind)
            return problem_response(
                503, "not-ready", "Not ready", f"projections behind the log: {lagging}"
            )
        return Response({"status": "ready", "migrations": len(applied)})
