"""`hamkari serve` and `hamkari migrate`."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

from server.cli.common import migrate_dsn
from server.cli.supervisor import ProjectorProcess
from server.config import Settings
from server.database.runtime import database_url
from server.observability.logs import granian_log_config
from server.stopping import SERVER_PID_ENV, STOPPING_FILE_ENV

# how long the HTTP workers leave the projections to the projector before competing
# for the ones nobody runs
STANDBY_SECONDS = 30.0


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    with database_url(settings) as dsn:
        applied = asyncio.run(migrate_dsn(dsn, settings))
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from granian.constants import Interfaces
    from granian.server import Server

    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    # prometheus_client's multiprocess mode: a fresh directory, set before the workers
    # fork and before anything here imports prometheus_client (docs/operator-guide.md)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    metrics_dir = tempfile.mkdtemp(prefix="metrics-", dir=settings.data_dir)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with database_url(settings) as dsn:
            asyncio.run(migrate_dsn(dsn, settings))
            # workers are separate processes: they read the resolved database from the env
            os.environ["DATABASE_URL"] = dsn
            os.environ["HAMKARI_WORKERS"] = str(workers)
            projector = _start_projector(settings)
            # each worker stops by itself once this process is gone or stopping
            # (server/stopping.py)
            stopping_file = Path(metrics_dir) / "stopping"
            os.environ[SERVER_PID_ENV] = str(os.getpid())
            os.environ[STOPPING_FILE_ENV] = str(stopping_file)
            print(f"Hamkari listening on http://{host}:{port} ({workers} worker(s))", flush=True)
            try:
                # SIGTERM: granian stops accepting, lets in-flight requests finish and
                # runs each worker's lifespan shutdown; a worker still busy after the
                # timeout is killed (nothing it had not acknowledged is lost)
                _server_class(Server, stopping_file)(
                    "server.app:app_from_env",
                    address=host,
                    port=port,
                    workers=workers,
                    interface=Interfaces.ASGI,
                    factory=True,
                    log_access=False,
                    log_dictconfig=granian_log_config(),
                    workers_kill_timeout=max(1, math.ceil(settings.shutdown_timeout)),
                    # a worker that dies (OOM killer, a crash) is replaced; the others
                    # serve on
                    respawn_failed_workers=True,
                ).serve()
            finally:
                # then the projector, at a batch boundary, before the database stops
                if projector is not None:
                    projector.stop()
        print("Hamkari stopped", flush=True)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _server_class(server: type[Any], stopping_file: Path) -> type[Any]:
    """granian's server, which also says it is stopping with `stopping_file`: the
    SIGTERM it sends a worker that is still starting may be lost (server/stopping.py)."""

    class StoppingServer(server):  # type: ignore[misc]
        def signal_handler_interrupt(self, *args: Any, **kwargs: Any) -> None:
            stopping_file.touch()
            super().signal_handler_interrupt(*args, **kwargs)

    return StoppingServer


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    """Before granian takes SIGTERM over: unwind, so that the projector and the embedded
    database started so far are stopped too."""
    raise SystemExit(0)


def _start_projector(settings: Settings) -> ProjectorProcess | None:
    """The projections run in a process of their own, so that folding events never
    takes a request worker's CPU; the workers stand by for them in case it cannot run
    (docs/operator-guide.md). None when this server runs no projection."""
    if not settings.projections_run:
        return None
    projector = ProjectorProcess(dict(os.environ), stop_timeout=settings.shutdown_timeout)
    os.environ["HAMKARI_PROJECTIONS_STANDBY"] = str(STANDBY_SECONDS)
    projector.start()
    return projector


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", help="address to bind (HAMKARI_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (HAMKARI_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(handler=cmd_migrate)
