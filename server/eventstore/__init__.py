"""The event store: a gap-free, append-only log in PostgreSQL with group commit."""

from server.eventstore.appender import Appender
from server.eventstore.errors import (
    AlreadyStored,
    EventIdReused,
    EventStoreError,
    StoreClosed,
    StoreUnavailable,
    TokenRevoked,
    VersionConflict,
)
from server.eventstore.records import (
    Metadata,
    NewEvent,
    Recorded,
    StoredEvent,
    canonical_json,
    leaf_hash,
)
from server.eventstore.store import EventStore
from server.eventstore.subscription import LogFollower

__all__ = [
    "AlreadyStored",
    "Appender",
    "EventIdReused",
    "EventStore",
    "EventStoreError",
    "LogFollower",
    "Metadata",
    "NewEvent",
    "Recorded",
    "StoreClosed",
    "StoreUnavailable",
    "StoredEvent",
    "TokenRevoked",
    "VersionConflict",
    "canonical_json",
    "leaf_hash",
]
