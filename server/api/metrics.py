"""`GET /metrics`: Prometheus text for the scraper, public like /health (put it behind the
reverse proxy's allow-list, docs/operator-guide.md)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State

from server.observability.metrics import CONTENT_TYPE, exposition


class MetricsController(Controller):
    tags = ["operations"]

    @get(
        "/metrics",
        operation_id="metrics",
        summary="Prometheus metrics",
        media_type=CONTENT_TYPE,
        include_in_schema=True,
    )
    async def metrics(self, state: State) -> Response[bytes]:
        """Requests by route and status with latency histograms, appends and group-commit
        sizes, the appender's queue, the database pool, the log head and each
        projection's position and lag, summed over every worker of this server; with a
        read replica, how far it is behind the primary."""
        body = await exposition(
            state.pool, getattr(state, "metrics_sampler", None), read_pool=state.get("read_pool")
        )
        return Response(body, media_type=CONTENT_TYPE)
