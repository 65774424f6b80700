"""The one writer of the log in this process: group commit under a transaction-scoped
advisory lock, so positions are gap-free and in commit order across processes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast
from uuid import UUID

import asyncpg
import msgspec
from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from server.audit.merkle import Frontier
from server.audit.tree_store import STORED_LEVEL_STRIDE, AuditTreeBehind
from server.eventstore.errors import (
    AlreadyStored,
    EventIdReused,
    StoreClosed,
    StoreUnavailable,
    TokenRevoked,
    VersionConflict,
)
from server.eventstore.group_sql import (
    ADVANCE,
    ADVANCE_UNAUDITED,
    COPY_ABOVE,
    INSERT_AND_ADVANCE,
    INSERT_AND_ADVANCE_UNAUDITED,
    OPEN_AND_LOCK,
    READ_UNDER_LOCK,
)
from server.eventstore.records import (
    Entry,
    NewEvent,
    Recorded,
    StoredEvent,
    encode_entry,
    leaf_hash,
)
from server.eventstore.rows import STORED_COLUMNS, stored_event

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "hamkari_log"
# the leaf hash of every event when an (unaudited, bench-only) appender skips hashing
UNHASHED = bytes(32)

# errors that mean "the database is not there right now": the client may retry
UNAVAILABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    # a connection the server dropped mid-operation can leave asyncpg's protocol in
    # this state (MagicStack/asyncpg#1069); the pool replaces the connection
    asyncpg.InternalClientError,
)


EVENT_COLUMNS = (
    "position",
    "event_id",
    "stream",
    "version",
    "type",
    "schema_version",
    "recorded_at",
    "entry",
    "leaf_hash",
)
# where a planned row holds the time of the group and the leaf hash
RECORDED_AT = EVENT_COLUMNS.index("recorded_at")
LEAF_HASH = EVENT_COLUMNS.index("leaf_hash")


@dataclass(eq=False)
class _Request:
    events: Sequence[NewEvent]
    future: asyncio.Future[list[Recorded]]
    # streams the decision read but does not write: each must still be at this version
    unchanged: Mapping[str, int]
    # False: an id already in the log (or earlier in the group) fails the request with
    # AlreadyStored instead of yielding the original receipt
    replays: bool = True
    # the hash of the token the events are posted with: unless that token is active
    # when the group commits, the request fails with TokenRevoked
    token: bytes | None = None


@dataclass
class _Plan:
    """What one group commit will write, built in memory under the lock."""

    head: int
    recorded_at: datetime
    versions: dict[str, int]
    # ids already in the log, and the events planned so far, by `UUID.int`: a UUID's
    # own hash is Python code, an int's is not, and every event is looked up thrice
    existing: dict[int, StoredEvent]
    active_tokens: frozenset[bytes] = frozenset()
    hash_leaves: bool = True
    rows: list[tuple[object, ...]] = field(default_factory=list)
    planned: dict[int, tuple[NewEvent, Recorded]] = field(default_factory=dict)
    outcomes: list[tuple[_Request, list[Recorded] | BaseException]] = field(default_factory=list)


class Appender:
    """Queues append requests and commits them in groups, one transaction at a time.

    A request is atomic (all its events, or none); one bad request fails alone.
    """

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = 5000, audited: bool = True) -> None:
        self._pool = pool
        self._max_batch = max_batch
        # False only in the bench, to measure what leaf hashes and the audit tree cost:
        # then the leaf hashes are zeros and the tree is not kept
        self._audited = audited
        self._queue: deque[_Request] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        # figures for /metrics and the bench; the observer hears of every committed
        # group: (requests, events written, seconds to write and commit)
        self.groups_committed = 0
        self.events_committed = 0
        self.observer: Callable[[int, int, float], None] | None = None

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="hamkari-appender")

    async def close(self) -> None:
        """Stop accepting, commit what is queued, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def append(
        self,
        events: Sequence[NewEvent],
        unchanged: Mapping[str, int] | None = None,
        *,
        replays: bool = True,
        token: bytes | None = None,
    ) -> list[Recorded]:
        if self._closing:
            raise StoreClosed("the event store is shutting down")
        if not events:
            return []
        if self._task is None:
            self.start()
        future: asyncio.Future[list[Recorded]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Request(events, future, unchanged or {}, replays, token))
        self._wakeup.set()
        # shield: a caller that gives up does not withdraw an event already queued
        return await asyncio.shield(future)

    # -- the loop -----------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self._closing:
                    return
                await self._wakeup.wait()
                self._wakeup.clear()
                continue
            group = self._take_group()
            try:
                await self._commit(group)
            except Exception as exc:  # never let the writer die
                log.exception("append group failed")
                _fail_all(group, exc)

    def _take_group(self) -> list[_Request]:
        group = [self._queue.popleft()]
        size = len(group[0].events)
        while self._queue and size + len(self._queue[0].events) <= self._max_batch:
            request = self._queue.popleft()
            size += len(request.events)
            group.append(request)
        return group

    async def _commit(self, group: list[_Request]) -> None:
        started = time.perf_counter()
        try:
            plan = await self._write(group)
        except UNAVAILABLE as exc:
            _fail_all(group, StoreUnavailable(f"database unavailable: {exc}"))
            return
        except asyncpg.PostgresError as exc:
            if len(group) == 1:
                _fail_all(group, exc)
                return
            # Something none of our checks foresaw (a writer that bypassed the lock?):
            # commit each request alone so that one bad item fails only itself.
            log.warning("group of %d failed (%s); committing one by one", len(group), exc)
            for request in group:
                await self._commit([request])
            return
        self.groups_committed += 1
        self.events_committed += len(plan.rows)
        if self.observer is not None:
            self.observer(len(group), len(plan.rows), time.perf_counter() - started)
        for request, outcome in plan.outcomes:
            if request.future.done():
                continue
            if isinstance(outcome, BaseException):
                request.future.set_exception(outcome)
            else:
                request.future.set_result(outcome)

    async def _write(self, group: list[_Request]) -> _Plan:
        """One transaction, four round trips: open and lock, read, write, commit.

        A busy worker's event loop makes every round trip wait its turn, and the log's
        lock is held across them, so their count is what other writers of the log wait
        for (docs/event-store.md, "Group commit")."""
        # an id twice in the group is rare and harmless in `= any(...)`: no set of UUIDs
        # (their hash is Python code)
        ids = [event.id for request in group for event in request.events]
        streams = list(
            {event.stream for request in group for event in request.events}
            | {stream for request in group for stream in request.unchanged}
        )
        tokens = list({request.token for request in group if request.token is not None})
        async with self._pool.acquire() as conn:
            await conn.execute(OPEN_AND_LOCK)
            try:
                plan = await self._plan_and_write(conn, group, ids, streams, tokens)
                await conn.execute("COMMIT")
            except BaseException:
                await _roll_back(conn)
                raise
        return plan

    async def _plan_and_write(
        self,
        conn: PoolConnectionProxy[Record],
        group: list[_Request],
        ids: list[UUID],
        streams: list[str],
        tokens: list[bytes],
    ) -> _Plan:
        state = await conn.fetchrow(READ_UNDER_LOCK, tokens, ids, streams)
        assert state is not None
        existing: dict[int, StoredEvent] = {}
        if state["existing"]:  # retried ids: rare, so their rows take a trip of their own
            existing = {
                row["event_id"].int: stored_event(row)
                for row in await conn.fetch(
                    f"SELECT {STORED_COLUMNS} FROM events WHERE event_id = any($1::uuid[])",
                    state["existing"],
                )
            }
        head = state["last_position"]
        plan = _Plan(
            head=head,
            recorded_at=datetime.now(UTC),
            versions=dict(zip(streams, state["versions"], strict=True)),
            existing=existing,
            active_tokens=frozenset(state["active_tokens"]),
            hash_leaves=self._audited,
        )
        for request in group:
            _plan_request(plan, request)
        if plan.rows:
            await self._insert_and_advance(conn, plan, head, state["frontier"])
        return plan

    async def _insert_and_advance(
        self, conn: PoolConnectionProxy[Record], plan: _Plan, head: int, stored_frontier: bytes
    ) -> None:
        """Insert the rows, move the head and tell listeners; and grow the audit tree:
        its leaves are the events' leaf hashes, its completed interior nodes are stored
        and the frontier moves with the head (docs/auditor-guide.md). One statement for
        a small group; a large one sends its rows by COPY first."""
        by_copy = len(plan.rows) > COPY_ABOVE
        if by_copy:
            await conn.copy_records_to_table("events", records=plan.rows, columns=EVENT_COLUMNS)
            arrays: list[object] = []
        else:
            columns = zip(*plan.rows, strict=True)
            arrays = [plan.recorded_at]
            arrays += [list(column) for i, column in enumerate(columns) if i != RECORDED_AT]
        if not self._audited:
            statement = ADVANCE_UNAUDITED if by_copy else INSERT_AND_ADVANCE_UNAUDITED
            await conn.execute(statement, plan.head, NOTIFY_CHANNEL, *arrays)
            return
        frontier = Frontier.from_bytes(stored_frontier)
        if frontier.size != head:
            raise AuditTreeBehind(frontier.size, head)
        leaves = cast(list[bytes], [row[LEAF_HASH] for row in plan.rows])
        frontier, nodes = frontier.extend_interior(leaves, level_stride=STORED_LEVEL_STRIDE)
        await conn.execute(
            ADVANCE if by_copy else INSERT_AND_ADVANCE,
            plan.head,
            NOTIFY_CHANNEL,
            *arrays,
            frontier.to_bytes(),
            [node[0] for node in nodes],
            [node[1] for node in nodes],
            [node[2] for node in nodes],
        )


async def _roll_back(conn: PoolConnectionProxy[Record]) -> None:
    """End a failed transaction; if the connection is broken, the pool discards it
    (and releasing a connection still in a transaction rolls it back)."""
    if conn.is_closed() or not conn.is_in_transaction():
        return
    try:
        await conn.execute("ROLLBACK")
    except Exception:  # the original error is the one to report
        log.debug("rollback failed", exc_info=True)


def _plan_request(plan: _Plan, request: _Request) -> None:
    """Check one request against the log and what the group planned before it.

    On success its rows join the plan; on failure the plan is left as it was."""
    versions: dict[str, int] = {}
    planned: dict[int, tuple[NewEvent, Recorded]] = {}
    rows: list[tuple[object, ...]] = []
    receipts: list[Recorded] = []
    position = plan.head
    try:
        if request.token is not None and request.token not in plan.active_tokens:
            raise TokenRevoked()
        for stream, expected in request.unchanged.items():
            current = plan.versions.get(stream, 0)
            if current != expected:
                raise VersionConflict(stream, expected, current)
        for event in request.events:
            key = event.id.int
            if key in planned or key in plan.planned or key in plan.existing:
                replay = _replayed(plan, planned, event)
                if replay is not None and not request.replays:
                    raise AlreadyStored(event.id)
                if replay is not None:
                    receipts.append(replay)
                    continue
            current = versions.get(event.stream, plan.versions.get(event.stream, 0))
            if event.expected_version is not None and event.expected_version != current:
                raise VersionConflict(event.stream, event.expected_version, current)
            version = current + 1
            position += 1
            entry = encode_entry(
                Entry(
                    position=position,
                    id=event.id,
                    type=event.type,
                    stream=event.stream,
                    version=version,
                    schema_version=event.schema_version,
                    recorded_at=plan.recorded_at,
                    metadata=event.metadata,
                    data=msgspec.Raw(event.data),
                )
            )
            digest = leaf_hash(entry) if plan.hash_leaves else UNHASHED
            versions[event.stream] = version
            rows.append(
                (
                    position,
                    event.id,
                    event.stream,
                    version,
                    event.type,
                    event.schema_version,
                    plan.recorded_at,
                    entry,
                    digest,
                )
            )
            receipt = Recorded(
                id=event.id,
                type=event.type,
                stream=event.stream,
                version=version,
                position=position,
                recorded_at=plan.recorded_at,
                hash=digest,
            )
            planned[key] = (event, receipt)
            receipts.append(receipt)
    except (VersionConflict, EventIdReused, AlreadyStored, TokenRevoked) as exc:
        plan.outcomes.append((request, exc))
        return
    plan.head = position
    plan.versions.update(versions)
    plan.planned.update(planned)
    plan.rows.extend(rows)
    plan.outcomes.append((request, receipts))


def _replayed(
    plan: _Plan, planned: dict[int, tuple[NewEvent, Recorded]], event: NewEvent
) -> Recorded | None:
    """The original receipt when this event's id is already taken by the same content,
    posted by the same party; EventIdReused when by other content or another party."""
    earlier = planned.get(event.id.int) or plan.planned.get(event.id.int)
    if earlier is not None:
        original, receipt = earlier
        if original.metadata.same_party(event.metadata) and _same_content(
            original.type, original.stream, original.data, event
        ):
            return msgspec.structs.replace(receipt, replayed=True)
        raise EventIdReused(event.id)
    stored = plan.existing.get(event.id.int)
    if stored is None:
        return None
    if not stored.decode().metadata.same_party(event.metadata):
        raise EventIdReused(event.id)
    if _same_content(stored.type, stored.stream, stored.data, event):
        return stored.receipt(replayed=True)
    raise EventIdReused(event.id, stored.position)


def _same_content(type_: str, stream: str, data: bytes, event: NewEvent) -> bool:
    return type_ == event.type and stream == event.stream and data == event.data


def _fail_all(group: Sequence[_Request], exc: BaseException) -> None:
    for request in group:
        if not request.future.done():
            request.future.set_exception(exc)
