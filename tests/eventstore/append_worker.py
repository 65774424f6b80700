"""A separate writer process for the multi-process and kill tests.

Appends `--batches` batches of `--size` events through its own Appender and prints
one line per acknowledged event, `ack <batch> <position> <id>`, flushed at once."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

from server.config import Settings
from server.database.pool import create_pool
from server.eventstore import Appender, EventStore, Metadata, NewEvent, canonical_json


async def run(dsn: str, tag: str, batches: int, size: int, concurrency: int, wait: bool) -> None:
    pool = await create_pool(dsn, Settings(), min_size=1, max_size=4)
    appender = Appender(pool)
    store = EventStore(pool, appender)
    if wait:
        # connected and ready; start together with the other writers
        await pool.fetchval("SELECT 1")
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(batches):
        queue.put_nowait(number)

    async def writer() -> None:
        while not queue.empty():
            number = queue.get_nowait()
            batch_id = f"{tag}-{number}"
            events = [
                NewEvent(
                    id=uuid.uuid4(),
                    type="Noted",
                    stream=f"{tag}-{number % 7}",
                    data=canonical_json({"batch": batch_id, "size": size, "i": i}),
                    metadata=Metadata(principal=tag),
                )
                for i in range(size)
            ]
            receipts = await store.append(events)
            sys.stdout.write("".join(f"ack {batch_id} {r.position} {r.id}\n" for r in receipts))
            sys.stdout.flush()

    await asyncio.gather(*(writer() for _ in range(concurrency)))
    await appender.close()
    await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dsn")
    parser.add_argument("--tag", required=True)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--wait", action="store_true", help="start on a line from stdin")
    args = parser.parse_args()
    asyncio.run(run(args.dsn, args.tag, args.batches, args.size, args.concurrency, args.wait))


if __name__ == "__main__":
    main()
