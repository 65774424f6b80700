-- The event log: one row per event, gap-free positions, append-only.
-- `entry` holds the exact canonical JSON bytes whose RFC 9162 leaf hash is `leaf_hash`;
-- the other columns are copies of its fields for indexing.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hamkari_app') THEN
        CREATE ROLE hamkari_app NOLOGIN;
    END IF;
    -- the migrating role must be able to SET ROLE to the application role
    IF NOT pg_has_role(current_user, 'hamkari_app', 'MEMBER') THEN
        EXECUTE format('GRANT hamkari_app TO %I', current_user);
    END IF;
END
$$;

CREATE TABLE events (
    position        bigint      PRIMARY KEY CHECK (position > 0),
    event_id        uuid        NOT NULL UNIQUE,
    stream          text        NOT NULL,
    version         integer     NOT NULL CHECK (version > 0),
    type            text        NOT NULL,
    schema_version  smallint    NOT NULL,
    recorded_at     timestamptz NOT NULL,
    entry           bytea       NOT NULL,
    leaf_hash       bytea       NOT NULL CHECK (length(leaf_hash) = 32),
    UNIQUE (stream, version)
);

-- One row: the last position appended. Updated in the appending transaction.
CREATE TABLE log_head (
    id              boolean     PRIMARY KEY DEFAULT true CHECK (id),
    last_position   bigint      NOT NULL
);
INSERT INTO log_head (id, last_position) VALUES (true, 0);

CREATE FUNCTION hamkari_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION hamkari_reject_change();
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION hamkari_reject_change();
-- ALWAYS: fire even under session_replication_role = replica
ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update_or_delete;
ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_truncate;

GRANT SELECT, INSERT ON events TO hamkari_app;
GRANT SELECT, UPDATE ON log_head TO hamkari_app;
GRANT SELECT ON schema_migrations TO hamkari_app;
