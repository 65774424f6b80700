"""The `hamkari` command: serve, migrate, tokens, and the operator's and auditor's tools.

Every command honours DATABASE_URL; unset, it uses the embedded PostgreSQL under
./var/. Each sub-command lives in its own module with a `register(commands)`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import asyncpg

from server.cli import audit, demo, projections, serve, tokens, witness
from server.config import Settings
from server.eventstore.appender import UNAVAILABLE

# sysexits' EX_TEMPFAIL: nothing was done, the same command may simply be run again
EXIT_TRY_AGAIN = 75

COMMAND_MODULES = [serve, tokens, demo, projections, audit, witness]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hamkari", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        result: int = args.handler(settings, args)
    except (*UNAVAILABLE, asyncpg.ReadOnlySQLTransactionError) as exc:
        # no primary reachable (a failover under way, or DATABASE_URL names only a
        # standby): say so in one line rather than a traceback
        print(
            f"hamkari: no writable database reachable ({type(exc).__name__}: {exc});"
            " try again once a primary is up",
            file=sys.stderr,
        )
        return EXIT_TRY_AGAIN
    return result


if __name__ == "__main__":
    sys.exit(main())
