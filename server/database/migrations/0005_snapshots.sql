-- Aggregate snapshots: a cache of an aggregate's state at a version, never the record.
-- Loading reads the latest snapshot and the stream's later events.

CREATE TABLE snapshots (
    stream      text        PRIMARY KEY,
    version     integer     NOT NULL CHECK (version > 0),
    topic       text        NOT NULL,
    state       bytea       NOT NULL,
    taken_at    timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE, DELETE ON snapshots TO hamkari_app;
