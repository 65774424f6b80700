"""The statements of a group commit (server/eventstore/appender.py), one per round trip.

Every one after the first runs with the log's lock held; the lock is taken in a
statement of its own so that the next statement's snapshot sees every group committed
before it."""

from __future__ import annotations

# pg_advisory_xact_lock key held by every appending transaction ("HMKR" "LOG ")
LOG_LOCK = 0x484D4B52_4C4F4720

# One round trip: the simple-query protocol runs both statements.
OPEN_AND_LOCK = f"BEGIN; SELECT pg_advisory_xact_lock({LOG_LOCK})"

# Under the lock, all the group needs to know, in one statement: the head and the audit
# tree's frontier; which of the posting tokens ($1) are active; which of the event
# ids ($2) are already in the log; each stream's version ($3, in order).
READ_UNDER_LOCK = """
SELECT h.last_position,
       h.frontier,
       array(SELECT t.token_hash FROM tokens t
             WHERE t.token_hash = any($1::bytea[]) AND t.revoked_at IS NULL) AS active_tokens,
       array(SELECT e.event_id FROM events e WHERE e.event_id = any($2::uuid[])) AS existing,
       array(SELECT coalesce((SELECT max(e.version) FROM events e WHERE e.stream = s.stream), 0)
             FROM unnest($3::text[]) WITH ORDINALITY AS s(stream, n)
             ORDER BY s.n) AS versions
FROM log_head h
"""

# The rows, as one array a column ($4-$11), all recorded at $3.
_INSERT_ROWS = """
appended AS (
    INSERT INTO events (position, event_id, stream, version, type, schema_version,
                        recorded_at, entry, leaf_hash)
    SELECT r.position, r.event_id, r.stream, r.version, r.type, r.schema_version,
           $3::timestamptz, r.entry, r.leaf_hash
    FROM unnest($4::bigint[], $5::uuid[], $6::text[], $7::integer[], $8::text[],
                $9::smallint[], $10::bytea[], $11::bytea[])
         AS r(position, event_id, stream, version, type, schema_version, entry, leaf_hash)
),"""

# The head moves to $1, listeners on $2 hear of it, and the audit tree grows: its new
# frontier ${f}, its completed nodes ${f+1}-${f+3}.
_ADVANCE = """
nodes AS (
    INSERT INTO merkle_nodes (level, index, hash)
    SELECT * FROM unnest(${n1}::smallint[], ${n2}::bigint[], ${n3}::bytea[])
),
head AS (UPDATE log_head SET last_position = $1, frontier = ${f} RETURNING last_position)
SELECT pg_notify($2, last_position::text) FROM head
"""
# The bench's unaudited appender keeps no tree.
_ADVANCE_UNAUDITED = """
head AS (UPDATE log_head SET last_position = $1 RETURNING last_position)
SELECT pg_notify($2, last_position::text) FROM head
"""


def _advance(frontier: int) -> str:
    numbers = {"f": frontier, "n1": frontier + 1, "n2": frontier + 2, "n3": frontier + 3}
    return _ADVANCE.format_map(numbers)


# Groups of more rows than this send them by COPY.
COPY_ABOVE = 64
# A small group: rows and head in one statement (one round trip).
INSERT_AND_ADVANCE = "WITH" + _INSERT_ROWS + _advance(12)
INSERT_AND_ADVANCE_UNAUDITED = "WITH" + _INSERT_ROWS + _ADVANCE_UNAUDITED
# A large group: the rows go by binary COPY first, cheaper for PostgreSQL by the
# hundred; then the head.
ADVANCE = "WITH" + _advance(3)
ADVANCE_UNAUDITED = "WITH" + _ADVANCE_UNAUDITED
