"""The litestar application: create_app() is the only wiring of routes, lifespan,
dependencies, problem mapping and OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.openapi import OpenAPIConfig

from server.api.health import HealthController
from server.api.problems import EXCEPTION_HANDLERS
from server.config import Settings
from server.database.pool import create_pool
from server.eventstore import Appender, EventStore


def create_app(settings: Settings) -> Litestar:
    if not settings.database_url:
        raise ValueError("create_app needs settings.database_url; `hamkari serve` resolves it")
    dsn = settings.database_url

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await create_pool(dsn, settings)
        appender = Appender(pool, max_batch=settings.appender_max_batch)
        appender.start()
        app.state.settings = settings
        app.state.pool = pool
        app.state.store = EventStore(pool, appender)
        try:
            yield
        finally:
            await appender.close()
            await pool.close()

    return Litestar(
        route_handlers=[HealthController],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Hamkari",
            version="1",
            description=(
                "The auditable record of cooperation between the Tehran directorate for "
                "foreign nationals and its partners."
            ),
        ),
    )


def app_from_env() -> Litestar:
    """Factory for the ASGI server's workers: settings from the environment."""
    return create_app(Settings.from_env())
