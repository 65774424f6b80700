"""The litestar application: create_app() is the only wiring of routes, lifespan,
dependencies, problem mapping and OpenAPI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from server.api.admin_projections import AdminProjectionsController
from server.api.answer_headers import add_answer_headers
from server.api.audit import AuditController
from server.api.bodies import complete_bodies
from server.api.contract import ContractController
from server.api.events import EventsController
from server.api.health import HealthController
from server.api.imports import ImportsController
from server.api.methods import options_name_every_method
from server.api.metrics import MetricsController
from server.api.openapi import install_event_body_schema
from server.api.problems import EXCEPTION_HANDLERS
from server.api.progress import ProgressController
from server.api.reports import AttestationsController, ReportsController
from server.api.witnesses import WitnessController
from server.audit.checkpoints import Checkpointer
from server.audit.signing import Signer, load_or_create_key
from server.auth.middleware import PUBLIC_PATHS, TokenAuthentication
from server.auth.tokens import KnownTokens
from server.config import Settings
from server.database.pool import create_pool, create_read_pool
from server.eventstore import Appender, EventStore
from server.memory import settle_after_start
from server.observability.access import RequestRecorder, access_lines
from server.observability.limits import rate_limiting, request_timeouts
from server.observability.logs import configure_logging
from server.observability.metrics import RequestTally, Sampler, record_group
from server.projections.host import ProjectionHost
from server.projections.reading import ReportReader
from server.services.posting import PostingService
from server.services.repository import AggregateRepository
from server.stopping import now_serving, stop_worker_with_server
from server.web import TEMPLATE_CONFIG, WEB_PATHS, web_routers


def create_app(settings: Settings, *, settle_gc: bool = False) -> Litestar:
    """The app; `settle_gc` tunes the process's garbage collector once started
    (server/memory.py): for a server process, not for a test that makes many apps."""
    if not settings.database_url:
        raise ValueError("create_app needs settings.database_url; `hamkari serve` resolves it")
    dsn = settings.database_url
    requests = RequestTally()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await create_pool(dsn, settings)
        # reads that may lag a little go to the hot standby when there is one; posting,
        # token writes, checkpoint signing and the projector stay on the primary
        read_pool = await create_read_pool(settings) or pool
        appender = Appender(pool, max_batch=settings.appender_max_batch)
        appender.observer = record_group
        appender.start()
        sampler = Sampler(pool, appender, requests)
        sampler.start()
        app.state.metrics_sampler = sampler
        app.state.settings = settings
        app.state.pool = pool
        app.state.read_pool = read_pool
        app.state.known_tokens = KnownTokens()
        store = EventStore(pool, appender)
        app.state.store = store
        # the log as the standby has it, for GET: appends still go through the appender
        app.state.log_reads = store if read_pool is pool else EventStore(read_pool, appender)
        app.state.posting = PostingService(
            store, AggregateRepository(store, cache_size=settings.aggregate_cache)
        )
        projections = ProjectionHost.configured(
            pool, dsn, settings, standby=settings.projections_standby
        )
        await projections.start(run=settings.projections_run)
        app.state.projections = projections
        app.state.reports = ReportReader(read_pool, wait_max=settings.report_wait_max, primary=pool)
        checkpointer = Checkpointer(
            pool,
            Signer(settings.log_origin, load_or_create_key(settings.signing_key_path)),
            every_events=settings.checkpoint_events,
            every_seconds=settings.checkpoint_seconds,
        )
        checkpointer.start()
        app.state.checkpointer = checkpointer
        try:
            if settle_gc:
                settle_after_start()
                now_serving()
            yield
        finally:
            # SIGTERM: the ASGI server has stopped accepting and finished in-flight
            # requests; commit what is still queued, stop the runners at a batch
            # boundary, then close the pool (docs/operator-guide.md)
            await appender.close()
            await projections.close()
            await checkpointer.close()
            await sampler.close()
            for opened in {pool, read_pool}:
                try:
                    await asyncio.wait_for(opened.close(), settings.shutdown_timeout)
                except TimeoutError:
                    opened.terminate()

    app = Litestar(
        route_handlers=[
            HealthController,
            MetricsController,
            ContractController,
            EventsController,
            ImportsController,
            ReportsController,
            AttestationsController,
            ProgressController,
            AdminProjectionsController,
            AuditController,
            WitnessController,
            *web_routers(settings),
        ],
        lifespan=[lifespan],
        middleware=[
            complete_bodies,
            request_timeouts(settings.request_timeout),
            rate_limiting(settings.rate_limit / max(1, settings.workers), settings.rate_burst),
            # the dashboard's pages sign in with a session cookie (server/web)
            DefineMiddleware(TokenAuthentication, exclude=[*PUBLIC_PATHS, WEB_PATHS]),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[add_answer_headers],
        # logging is ours (server/observability/logs.py): litestar's default config runs
        # dictConfig, which closes the handlers already installed, and with them the
        # line writer of a worker (its access log went nowhere)
        logging_config=None,
        request_max_body_size=settings.max_body_bytes,
        template_config=TEMPLATE_CONFIG,
        openapi_config=OpenAPIConfig(
            title="Hamkari",
            version="1",
            description=(
                "The auditable record of cooperation between the Tehran directorate for "
                "foreign nationals and its partners."
            ),
        ),
    )
    install_event_body_schema(app)
    options_name_every_method(app)
    # around litestar's handler, not a middleware: it sees the answers to requests no
    # route took (server/observability/access.py); litestar's OpenTelemetry plugin
    # wraps the same attribute
    app.asgi_handler = RequestRecorder(
        app.asgi_handler, requests, access_lines() if settings.access_log else None
    )
    return app


def app_from_env() -> Litestar:
    """Factory for the ASGI server's workers: settings from the environment."""
    configure_logging()
    settings = Settings.from_env()
    # first thing in the worker: from here on it stops when its server does
    stop_worker_with_server(grace=settings.shutdown_timeout)
    return create_app(settings, settle_gc=True)
