"""`python -m bench`: every benchmark, side by side against one embedded PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import datetime

from bench import eventstore
from bench.harness import Cluster, machine


async def main(scale: float) -> None:
    print(f"Hamkari bench, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    with Cluster() as cluster:
        for line in await eventstore.run(cluster, scale):
            print(line, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every event count")
    asyncio.run(main(parser.parse_args().scale))
