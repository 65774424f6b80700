"""`hamkari projections status|rebuild|run`: where each read model stands, rebuilding
one (or all) from position 0 while a running server keeps serving reads, and the
projector process that `hamkari serve` starts."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from server.cli.common import migrate_dsn
from server.config import Settings
from server.database.pool import create_pool
from server.database.runtime import database_url
from server.observability.logs import configure_logging
from server.projections.catalog import PROJECTIONS
from server.projections.projector import run_projector
from server.projections.rebuild import RebuildRunning, rebuild
from server.projections.tracking import ensure, statuses

T = TypeVar("T")


def with_app_pool(settings: Settings, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """Run `work` with a small pool acting as the application role, which owns the
    read models (the owner would create rebuilt tables the server could not drop)."""

    async def run(dsn: str) -> T:
        await migrate_dsn(dsn, settings)
        pool = await create_pool(dsn, settings, min_size=1, max_size=2)
        try:
            await ensure(pool, PROJECTIONS)
            return await work(pool)
        finally:
            await pool.close()

    with database_url(settings) as dsn:
        return asyncio.run(run(dsn))


def cmd_status(settings: Settings, _args: argparse.Namespace) -> int:
    descriptions = {name: p.description for name, p in PROJECTIONS.items()}
    rows = with_app_pool(settings, lambda pool: statuses(pool, descriptions))
    print(f"{'PROJECTION':<16} {'POSITION':>10} {'HEAD':>10} {'LAG':>8} {'LAG S':>8}  STATE")
    stopped = False
    for s in rows:
        state = "running" if s.running else "not running"
        if s.rebuild_started_at is not None:
            state += f", rebuilding since {s.rebuild_started_at:%Y-%m-%d %H:%M:%S}"
        if s.error:
            stopped = True
            state = f"STOPPED at {s.error_position}: {s.error}"
        print(
            f"{s.name:<16} {s.position:>10} {s.head:>10} {s.lag_events:>8} "
            f"{s.lag_seconds:>8.1f}  {state}"
        )
        if s.rebuild_error:
            print(f"{'':<16} last rebuild failed: {s.rebuild_error}")
    return 1 if stopped else 0


def cmd_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    names = list(PROJECTIONS) if args.name in (None, "all") else [args.name]
    if any(name not in PROJECTIONS for name in names):
        print(
            f"hamkari: no projection {args.name!r}; known: {', '.join(PROJECTIONS)}",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()

    async def work(pool: asyncpg.Pool) -> dict[str, int]:
        return await rebuild(pool, [PROJECTIONS[name] for name in names])

    try:
        positions = with_app_pool(settings, work)
    except RebuildRunning as exc:
        print(f"hamkari: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:
        print(f"hamkari: rebuild failed, live tables kept: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    for name, position in positions.items():
        print(f"rebuilt {name} at position {position}")
    print(f"in {seconds:.1f} s")
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging()

    async def run(dsn: str) -> None:
        await migrate_dsn(dsn, settings)
        await run_projector(dsn, settings, parent=args.parent)

    with database_url(settings) as dsn:
        asyncio.run(run(dsn))
    return 0


def register(commands: Any) -> None:
    projections = commands.add_parser(
        "projections", help="read models: status, rebuild, and the projector process"
    )
    actions = projections.add_subparsers(dest="action", required=True)
    status = actions.add_parser("status", help="position, lag and errors of each projection")
    status.set_defaults(handler=cmd_status)
    rebuild_ = actions.add_parser(
        "rebuild", help="rebuild from position 0 into fresh tables and swap them in"
    )
    rebuild_.add_argument(
        "name", nargs="?", help=f"one of {', '.join(PROJECTIONS)}; all when omitted"
    )
    rebuild_.set_defaults(handler=cmd_rebuild)
    run = actions.add_parser(
        "run", help="run the projections in this process until SIGTERM (serve starts one)"
    )
    run.add_argument(
        "--parent", type=int, help="stop once the process with this pid is gone (serve's)"
    )
    run.set_defaults(handler=cmd_run)
