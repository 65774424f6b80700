"""What goes into the log and what comes out: events to append, receipts, stored events.

The stored `entry` is canonical JSON (sorted keys, no floats); its leaf hash is what
the audit log commits to."""

from __future__ import annotations

import hashlib
from datetime import datetime
from uuid import UUID

import msgspec

# One encoder for every byte that is hashed: sorted keys make the output canonical.
_canonical = msgspec.json.Encoder(order="sorted")


def canonical_json(value: object) -> bytes:
    """RFC 8785-compatible JSON for our data (ASCII keys, ints, strings, no floats)."""
    return _canonical.encode(value)


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


class Metadata(msgspec.Struct, frozen=True, kw_only=True):
    """Who appended an event, for which partner, in which request."""

    principal: str | None = None
    role: str | None = None
    partner_id: str | None = None
    request_id: str | None = None

    def same_party(self, other: Metadata) -> bool:
        """Whether `other` posted as the same party: the same role for the same partner.
        Only the same party's retry is answered with an event's receipt; a rotated token
        of the same organisation is the same party, another role or partner is not."""
        return self.role == other.role and self.partner_id == other.partner_id


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event decided by the domain, not yet in the log.

    `data` is the canonical JSON of the event's data; `expected_version` is the
    version the stream must be at just before this event (0: a new stream)."""

    id: UUID
    type: str
    stream: str
    data: bytes
    schema_version: int = 1
    expected_version: int | None = None
    metadata: Metadata = Metadata()


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """The stored bytes of one event: everything but its hash."""

    position: int
    id: UUID
    type: str
    stream: str
    version: int
    schema_version: int
    recorded_at: datetime
    metadata: Metadata
    data: msgspec.Raw


_entry_decoder = msgspec.json.Decoder(Entry)


def encode_entry(entry: Entry) -> bytes:
    return _canonical.encode(entry)


def decode_entry(raw: bytes) -> Entry:
    return _entry_decoder.decode(raw)


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """The receipt for an appended event; `replayed` when the id was already in the log."""

    id: UUID
    type: str
    stream: str
    version: int
    position: int
    recorded_at: datetime
    hash: bytes
    replayed: bool = False


class StoredEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event read back from the log: its canonical entry and its leaf hash."""

    position: int
    id: UUID
    type: str
    stream: str
    version: int
    schema_version: int
    recorded_at: datetime
    entry: bytes
    leaf_hash: bytes

    def decode(self) -> Entry:
        return decode_entry(self.entry)

    @property
    def data(self) -> bytes:
        """The canonical JSON of the event's data, exactly as posted and hashed."""
        return bytes(decode_entry(self.entry).data)

    def receipt(self, *, replayed: bool = False) -> Recorded:
        return Recorded(
            id=self.id,
            type=self.type,
            stream=self.stream,
            version=self.version,
            position=self.position,
            recorded_at=self.recorded_at,
            hash=self.leaf_hash,
            replayed=replayed,
        )
