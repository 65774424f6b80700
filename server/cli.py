"""The `hamkari` command: serve, migrate, and the operator's and auditor's tools.

Every command honours DATABASE_URL; unset, it uses the embedded PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from server.config import Settings
from server.database.migrate import migrate
from server.database.pool import connect_owner
from server.database.runtime import database_url


async def _migrate(dsn: str) -> list[str]:
    conn = await connect_owner(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    with database_url(settings) as dsn:
        applied = asyncio.run(_migrate(dsn))
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from granian.constants import Interfaces
    from granian.server import Server

    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    with database_url(settings) as dsn:
        asyncio.run(_migrate(dsn))
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hamkari", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", help="address to bind (HAMKARI_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (HAMKARI_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.set_defaults(handler=cmd_serve)

    migrate_ = commands.add_parser("migrate", help="apply pending database migrations")
    migrate_.set_defaults(handler=cmd_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    result: int = args.handler(settings, args)
    return result


if __name__ == "__main__":
    sys.exit(main())
