"""The durable floor of `POST /v1/events`: the no-database twin plus the least a durable
write can be in this stack.

Same server, framework, body decoding and receipts as the twin (bench/ceiling.py); the
events then go to PostgreSQL through asyncpg, gathered by one writer task into one
INSERT a group, committed (fsync on) before the answer. No token, no rules, no
ordering, no hashes, no logs or metrics. What Hamkari's route does beyond this is its
own cost; what this route cannot do on a machine, no implementation in this stack will."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar, Request, Response, post
from litestar.datastructures import State

from bench.ceiling import answer, serve
from schemas.envelope import type_of
from server.api.events import decode_body
from server.api.problems import EXCEPTION_HANDLERS

TABLE = "bench_floor_events"


class GroupWriter:
    """Requests queue their rows; one task inserts all that are waiting in one statement."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.waiting: list[tuple[list[tuple[uuid.UUID, str, str]], asyncio.Future[None]]] = []
        self.wakeup = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def write(self, rows: list[tuple[uuid.UUID, str, str]]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append((rows, future))
        self.wakeup.set()
        await future

    async def run(self) -> None:
        async with self.pool.acquire() as conn:
            while True:
                await self.wakeup.wait()
                self.wakeup.clear()
                group, self.waiting = self.waiting, []
                if not group:
                    continue
                rows = [row for request, _ in group for row in request]
                try:
                    await conn.execute(
                        f"INSERT INTO {TABLE} (id, type, data)"
                        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])",
                        [row[0] for row in rows],
                        [row[1] for row in rows],
                        [row[2] for row in rows],
                    )
                except Exception as exc:  # the bench reports failed requests
                    for _, future in group:
                        future.set_exception(exc)
                    continue
                for _, future in group:
                    future.set_result(None)


@post("/v1/events", status_code=201)
async def post_events(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    raw = await request.body()
    envelopes = decode_body(raw)
    rows = [
        (
            envelope.id or uuid.uuid4(),
            type_of(envelope),
            msgspec.json.encode(envelope.data).decode(),
        )
        for envelope in envelopes
    ]
    await state.writer.write(rows)
    return answer(raw, [(row[0], row[1]) for row in rows])


async def start(app: Litestar) -> None:
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=2)
    await pool.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE}"
        " (position bigserial, id uuid PRIMARY KEY, type text NOT NULL, data text NOT NULL)"
    )
    writer = GroupWriter(pool)
    writer.task = asyncio.create_task(writer.run())
    app.state.writer = writer


def app() -> Litestar:
    return Litestar(
        route_handlers=[post_events], exception_handlers=EXCEPTION_HANDLERS, on_startup=[start]
    )


if __name__ == "__main__":
    serve("bench.floor:app")
