"""`hamkari serve` and `hamkari migrate`."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from server.cli.common import migrate_dsn
from server.config import Settings
from server.database.runtime import database_url


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    with database_url(settings) as dsn:
        applied = asyncio.run(migrate_dsn(dsn))
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from granian.constants import Interfaces
    from granian.server import Server

    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    with database_url(settings) as dsn:
        asyncio.run(migrate_dsn(dsn))
        # workers are separate processes: they read the resolved database from the env
        os.environ["DATABASE_URL"] = dsn
        print(f"Hamkari listening on http://{host}:{port} ({workers} worker(s))", flush=True)
        Server(
            "server.app:app_from_env",
            address=host,
            port=port,
            workers=workers,
            interface=Interfaces.ASGI,
            factory=True,
            log_access=False,
        ).serve()
    return 0


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", help="address to bind (HAMKARI_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (HAMKARI_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(handler=cmd_migrate)
