"""`python -m bench`: every benchmark, side by side against one embedded PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import datetime

from bench import audit, eventstore, http, imports, mixed, projections, replication, workers
from bench.harness import Cluster, machine

SECTIONS = {
    "eventstore": eventstore,
    "http": http,
    "workers": workers,
    "projections": projections,
    "audit": audit,
    "imports": imports,
    "replication": replication,
    "mixed": mixed,
}


async def main(scale: float, only: list[str] | None = None) -> None:
    print(f"Hamkari bench, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    with Cluster() as cluster:
        for name, section in SECTIONS.items():
            if only and name not in only:
                continue
            for line in await section.run(cluster, scale):
                print(line, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every event count")
    parser.add_argument(
        "--only", action="append", choices=list(SECTIONS), help="run only this section"
    )
    args = parser.parse_args()
    asyncio.run(main(args.scale, args.only))
