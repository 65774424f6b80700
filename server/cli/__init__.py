"""The `hamkari` command: serve, migrate, tokens, and the operator's and auditor's tools.

Every command honours DATABASE_URL; unset, it uses the embedded PostgreSQL under
./var/. Each sub-command lives in its own module with a `register(commands)`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from server.cli import audit, demo, projections, serve, tokens, witness
from server.config import Settings

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
    result: int = args.handler(settings, args)
    return result


if __name__ == "__main__":
    sys.exit(main())
