"""Writing and reading events: POST /v1/events, the global log (JSON pages and a live
text/event-stream), and streams with time travel. Thin: the services decide."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import (
    NotFoundException,
    PermissionDeniedException,
)
from litestar.params import HeaderParameter, PathParameter, QueryParameter
from litestar.response import ServerSentEvent

from schemas.common import MAX_SAFE_INT
from schemas.envelope import EventBody, EventIn, EventPage, LoggedEvent, Receipt, RecordedBy
from server.aggregates.mapping import replay
from server.api.headers import header
from server.api.live_feed import live_feed
from server.api.openapi import PostEventsOperation
from server.api.parameters import STREAM, aware, position
from server.api.problems import ProblemDetail
from server.api.refused_text import explain
from server.api.request_id import request_id_of
from server.auth.middleware import (
    OVERSEERS,
    READERS,
    WRITER_ROLES,
    Credential,
    check_role,
    confirm_token,
    forget_token,
    invalid_token,
    principal_of,
)
from server.auth.tokens import Principal, Role
from server.eventstore import EventStore, Recorded, StoredEvent, TokenRevoked
from server.services.posting import Posted, PostingService

MAX_BATCH = 1000
StreamName = Annotated[
    str,
    PathParameter(
        pattern=STREAM,
        max_length=100,
        description="`periods`, or `<kind>-<id>`: `partner-nrc`, `pledge-<uuid>`, ...",
    ),
]
_body_decoder = msgspec.json.Decoder(EventBody)


def receipt_of(recorded: Recorded) -> Receipt:
    return Receipt(
        id=recorded.id,
        type=recorded.type,
        stream=recorded.stream,
        version=recorded.version,
        position=recorded.position,
        recorded_at=recorded.recorded_at,
        hash=recorded.hash.hex(),
    )


def logged(event: StoredEvent) -> LoggedEvent:
    entry = event.decode()
    meta = entry.metadata
    return LoggedEvent(
        id=event.id,
        type=event.type,
        schema_version=event.schema_version,
        stream=event.stream,
        version=event.version,
        position=event.position,
        recorded_at=event.recorded_at,
        recorded_by=RecordedBy(
            principal=meta.principal or "", role=meta.role or "", partner_id=meta.partner_id
        ),
        request_id=meta.request_id,
        data=entry.data,
        hash=event.leaf_hash.hex(),
    )


def decode_body(body: bytes, max_batch: int = MAX_BATCH) -> list[EventIn]:
    """The request body as envelopes; ProblemDetail 400 with the failing path otherwise."""
    try:
        decoded = _body_decoder.decode(body)
    except msgspec.ValidationError as exc:
        path, message = _split_path(str(exc))
        message = explain(message, path, body)
        raise ProblemDetail(
            400,
            "invalid-event",
            "Invalid event",
            f"{message} at {path or 'the body'}",
            errors=[{"path": path, "message": message}],
        ) from None
    except msgspec.DecodeError as exc:
        raise ProblemDetail(400, "malformed-json", "Malformed JSON", str(exc)) from None
    except UnicodeDecodeError as exc:
        # msgspec checks UTF-8 as it decodes a string, and says so with Python's error
        raise ProblemDetail(
            400, "malformed-json", "Malformed JSON", f"the body is not UTF-8: {exc.reason}"
        ) from None
    except RecursionError:
        # nesting past msgspec's depth limit, e.g. inside a field it was only skipping
        raise ProblemDetail(
            400, "malformed-json", "Malformed JSON", "the body is nested too deeply"
        ) from None
    envelopes = decoded if isinstance(decoded, list) else [decoded]
    if not envelopes:
        raise ProblemDetail(400, "empty-batch", "Empty batch", "the array holds no events")
    if len(envelopes) > max_batch:
        raise ProblemDetail(
            400,
            "batch-too-large",
            "Batch too large",
            f"{len(envelopes)} events in one batch; at most {max_batch}",
        )
    return envelopes


def _split_path(text: str) -> tuple[str, str]:
    """msgspec says `Expected int, got str - at `$[0].data.x``: return ("[0].data.x", ...)."""
    message, sep, where = text.rpartition(" - at `")
    if not sep:
        return "", text
    path = where.rstrip("`").removeprefix("$").removeprefix(".")
    return path, message


class EventsController(Controller):
    path = "/v1"
    tags = ["events"]

    @post(
        "/events",
        operation_id="postEvents",
        summary="Append one event or an atomic batch",
        operation_class=PostEventsOperation,
        status_code=201,
    )
    async def post_events(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Append one event (answer: a receipt) or an array of up to 1,000 (answer: an array
        of receipts, in order); a batch is appended all or nothing.

        Send an `id` (a UUID you choose) with every event: re-posting the same id returns
        the original receipt with 200 and appends nothing, so retries are always safe.
        `expected_version` makes the post conditional on the stream's version. Errors are
        `application/problem+json`: 400 bad input, 403 not yours to post, 409 version
        conflict (with `current_version`) or an id reused for other content, 415 not
        JSON, 422 a rule broken (the problem `type` names the rule), 503 retry later."""
        # the role check, here rather than as a guard: litestar copies the route handler
        # for every guard call, 3% of a single post
        check_role(principal_of(request), WRITER_ROLES)
        credential: Credential = request.auth
        # the app's state, not a `state` parameter: litestar builds one per request
        state: State = request.app.state
        try:
            raw, posted = await self._post(request, state, credential.token_hash)
        except TokenRevoked:
            forget_token(request)
            raise invalid_token() from None
        except Exception:
            # a token known to this worker was not looked up: nothing but a committed
            # append has shown it is still active (KnownTokens)
            await confirm_token(request)
            raise
        if not posted.appended_any:
            await confirm_token(request)
        receipts = [receipt_of(r) for r in posted.receipts]
        body: Any = receipts if _is_array(raw) else receipts[0]
        return Response(body, status_code=201 if posted.appended_any else 200)

    async def _post(
        self, request: Request[Any, Any, Any], state: State, token_hash: bytes
    ) -> tuple[bytes, Posted]:
        media = header(request.scope, b"content-type").split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise ProblemDetail(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                "send the events as application/json",
            )
        raw = await request.body()
        envelopes = decode_body(raw, state.settings.max_batch_events)
        service: PostingService = state.posting
        posted = await service.post(
            principal_of(request), envelopes, request_id_of(request), token_hash
        )
        return raw, posted

    @get(
        "/events",
        guards=[OVERSEERS],
        operation_id="readLog",
        summary="The global log in position order",
    )
    async def read_log(
        self,
        request: Request[Any, Any, Any],
        state: State,
        after: Annotated[int, position("The last position already seen.")] = 0,
        limit: Annotated[
            int, QueryParameter(ge=1, le=10_000, description="At most this many events.")
        ] = 1000,
        last_event_id: Annotated[
            int | None,
            HeaderParameter(
                name="Last-Event-ID",
                ge=0,
                le=MAX_SAFE_INT,
                schema_extra={"minimum": 0},  # as in server.api.parameters.position
                description="With `Accept: text/event-stream`: the last position received; "
                "the feed resumes after it (instead of `after`).",
            ),
        ] = None,
    ) -> Any:
        """Events after `after`, at most `limit`, each with its envelope and leaf hash.
        With `Accept: text/event-stream` the answer is a live feed that resumes from
        `Last-Event-ID` (the last position received); it ends within 5 seconds of its
        token being revoked."""
        # the log as the read replica has it (the primary's when there is none)
        store: EventStore = state.log_reads
        if "text/event-stream" in request.headers.get("accept", ""):
            start = after if last_event_id is None else last_event_id
            credential: Credential = request.auth
            # the route's JSON media type would win over the stream's own; a header does not
            return ServerSentEvent(
                live_feed(
                    store,
                    credential.token_hash,
                    start,
                    state.settings.poll_interval,
                    logged,
                    tokens=state.pool,
                ),
                headers={"content-type": "text/event-stream; charset=utf-8"},
            )
        events = await store.read_log(after, limit)
        return EventPage(
            events=[logged(e) for e in events],
            next_after=events[-1].position if events else after,
        )

    @get(
        "/streams/{stream:str}/events",
        guards=[READERS],
        operation_id="readStream",
        summary="A stream's events in version order",
    )
    async def read_stream(
        self, request: Request[Any, Any, Any], state: State, stream: StreamName
    ) -> list[LoggedEvent]:
        """Every event of one stream (one aggregate), oldest first. Partners may read the
        streams that are theirs: their partner stream, their pledges, deliveries,
        challenges and commitments, and meetings they attended."""
        store: EventStore = state.log_reads
        events = await store.read_stream(stream)
        # authorized before existence: a partner learns nothing of streams not its own
        await _check_may_read(principal_of(request), stream, events)
        if not events:
            raise NotFoundException(f"no stream {stream!r}")
        return [logged(e) for e in events]

    @get(
        "/streams/{stream:str}",
        guards=[READERS],
        operation_id="streamState",
        summary="An aggregate's state, now or as it stood",
    )
    async def stream_state(
        self,
        request: Request[Any, Any, Any],
        state: State,
        stream: StreamName,
        at_position: Annotated[
            int | None, position("The state as it stood when the log ended here.")
        ] = None,
        as_of: Annotated[
            datetime | None,
            QueryParameter(
                description="The state as it stood at this instant: an RFC 3339 timestamp, "
                "with its time zone offset."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """The state of one aggregate, rebuilt from its events up to `at_position` or up to
        `as_of` (time travel); without either, as it is now."""
        as_of = aware(as_of, "as_of")
        store: EventStore = state.log_reads
        events = await store.read_stream(stream)
        await _check_may_read(principal_of(request), stream, events)
        if not events:
            raise NotFoundException(f"no stream {stream!r}")
        upto = [
            e
            for e in events
            if (at_position is None or e.position <= at_position)
            and (as_of is None or e.recorded_at <= as_of)
        ]
        if not upto:
            raise NotFoundException(f"stream {stream!r} did not exist yet at that point")
        aggregate = replay(upto)
        assert aggregate is not None
        public = {
            key.lstrip("_"): value
            for key, value in vars(aggregate).items()
            if key != "_pending_events"
        }
        return {
            "stream": stream,
            "aggregate": type(aggregate).__name__,
            "version": aggregate.version,
            "as_of_position": upto[-1].position,
            "state": public,
        }


def _is_array(body: bytes) -> bool:
    return body.lstrip()[:1] == b"["


async def _check_may_read(principal: Principal, stream: str, events: list[StoredEvent]) -> None:
    """403 unless the principal may read the stream. A partner may read its own partner
    stream (even before it is registered: the name says whose it is) and the streams
    whose aggregate names it; a stream that does not exist names nobody, so it is 403
    like any other partner's."""
    if principal.role is not Role.PARTNER:
        return
    own = principal.partner_id
    if stream == f"partner-{own}":
        return
    aggregate = replay(events)
    for attribute in ("partner_id", "owner_partner_id"):
        if getattr(aggregate, attribute, None) == own:
            return
    if own in (getattr(aggregate, "participant_ids", None) or ()):
        return
    raise PermissionDeniedException(f"stream {stream!r} is not {own!r}'s")
