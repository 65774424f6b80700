"""Errors the event store raises; the API maps each to one problem type.

Each names what went wrong in the users' words."""

from __future__ import annotations

from uuid import UUID


class EventStoreError(Exception):
    """Base of the store's errors."""


class VersionConflict(EventStoreError):
    """The stream was not at the version the writer expected."""

    def __init__(self, stream: str, expected: int, current: int) -> None:
        super().__init__(f"stream {stream!r} is at version {current}, not the expected {expected}")
        self.stream = stream
        self.expected = expected
        self.current = current


class EventIdReused(EventStoreError):
    """An event id already taken (in the log, or earlier in the batch or group) came with
    other content, or from another party. `position` only when the event is the same
    party's: another's position is never named (API.md "Users and roles")."""

    def __init__(self, event_id: UUID, position: int | None = None) -> None:
        if position:
            text = f"event id {event_id} was already used at position {position} for other content"
        else:
            text = f"event id {event_id} is already taken by another event; choose a new id"
        super().__init__(text)
        self.event_id = event_id
        self.position = position


class AlreadyStored(EventStoreError):
    """An event id is already in the log, and the writer asked not to be given the
    original receipt: it decided without looking for replays and must look now."""

    def __init__(self, event_id: UUID) -> None:
        super().__init__(f"event id {event_id} is already in the log")
        self.event_id = event_id


class TokenRevoked(EventStoreError):
    """The token the events were posted with was not active when their group committed."""

    def __init__(self) -> None:
        super().__init__("the token was revoked")


class StoreUnavailable(EventStoreError):
    """The database could not be reached or failed mid-commit; retrying with ids is safe."""


class StoreClosed(EventStoreError):
    """The store is shutting down and accepts no more appends."""
