"""The audit export: NDJSON, one line per event in position order, with the exact stored
bytes (base64) and the leaf hash the server holds for them; streamed in keyset pages."""

from __future__ import annotations

from binascii import b2a_base64
from collections.abc import AsyncIterator

import asyncpg
import msgspec

EXPORT_MEDIA_TYPE = "application/x-ndjson"
# rows per read: about 2 MB of lines, so memory stays flat however long the log is
EXPORT_PAGE = 2000

_PAGE_SQL = """
SELECT position, leaf_hash, entry FROM events
WHERE position > $1 AND position <= $2
ORDER BY position
LIMIT $3
"""


class ExportLine(msgspec.Struct, frozen=True):
    """One line of an export: `entry` is the stored bytes the leaf hash is computed from
    (SHA-256(0x00 || entry)); both are base64 in the file."""

    position: int
    leaf_hash: bytes
    entry: bytes


def export_line(position: int, leaf_hash: bytes, entry: bytes) -> bytes:
    """One NDJSON line; the same bytes msgspec would write for ExportLine, faster."""
    return b'{"position":%d,"leaf_hash":"%s","entry":"%s"}\n' % (
        position,
        b2a_base64(leaf_hash, newline=False),
        b2a_base64(entry, newline=False),
    )


async def export_pages(
    pool: asyncpg.Pool, first: int, last: int, page: int = EXPORT_PAGE
) -> AsyncIterator[bytes]:
    """The lines for positions first..last, one chunk per page. Each page is its own
    short read, so a slow client holds no connection and no snapshot between pages."""
    after = first - 1
    while after < last:
        rows = await pool.fetch(_PAGE_SQL, after, last, page)
        if not rows:
            return
        yield b"".join([export_line(row[0], row[1], row[2]) for row in rows])
        after = rows[-1][0]
