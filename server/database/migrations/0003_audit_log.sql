-- The audit log: the RFC 9162 Merkle tree over events.leaf_hash in position order, kept
-- at append time, and the signed checkpoints of it. Leaf i (0-based) is the leaf hash of
-- position i + 1; the leaves are not copied here.

-- The frontier (the roots of the perfect subtrees of the tree of last_position leaves,
-- largest first) moves with the head in the appending transaction. Layout: the size as
-- 8 bytes big-endian, then 32 bytes per subtree root (server.audit.merkle.Frontier).
ALTER TABLE log_head ADD COLUMN frontier bytea NOT NULL DEFAULT '\x0000000000000000'::bytea;

-- Perfect subtrees on every fourth level (4, 8, 12, ...), stored once when their last
-- leaf is appended: at `level` L, `index` i one covers leaves [i * 2^L, (i + 1) * 2^L).
-- A node on another level is hashed from at most 8 stored ones below it (level 0 being
-- events.leaf_hash), so proofs read O(log n) rows, never the leaves of a whole range.
CREATE TABLE merkle_nodes (
    level   smallint NOT NULL CHECK (level BETWEEN 4 AND 60 AND level % 4 = 0),
    index   bigint   NOT NULL CHECK (index >= 0),
    hash    bytea    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, index)
);

-- Signed checkpoints in the C2SP checkpoint format; `note` is the exact signed note.
-- `signed_at` is when the server signed it: informative, not covered by the signature.
CREATE TABLE checkpoints (
    size        bigint      PRIMARY KEY CHECK (size >= 0),
    root_hash   bytea       NOT NULL CHECK (length(root_hash) = 32),
    origin      text        NOT NULL,
    key_id      bytea       NOT NULL CHECK (length(key_id) = 4),
    signature   bytea       NOT NULL CHECK (length(signature) = 64),
    note        text        NOT NULL,
    signed_at   timestamptz NOT NULL DEFAULT now()
);

-- A checkpoint only ever follows a smaller one: the history of signed sizes grows.
CREATE FUNCTION hamkari_checkpoint_grows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM checkpoints WHERE size >= NEW.size) THEN
        RAISE EXCEPTION 'checkpoint of size % does not follow the last one signed', NEW.size
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER checkpoints_grow
    BEFORE INSERT ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION hamkari_checkpoint_grows();

-- Append-only, like the events (hamkari_reject_change is from 0001).
CREATE TRIGGER merkle_nodes_no_update_or_delete
    BEFORE UPDATE OR DELETE ON merkle_nodes
    FOR EACH ROW EXECUTE FUNCTION hamkari_reject_change();
CREATE TRIGGER merkle_nodes_no_truncate
    BEFORE TRUNCATE ON merkle_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION hamkari_reject_change();
CREATE TRIGGER checkpoints_no_update_or_delete
    BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION hamkari_reject_change();
CREATE TRIGGER checkpoints_no_truncate
    BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION hamkari_reject_change();
ALTER TABLE merkle_nodes ENABLE ALWAYS TRIGGER merkle_nodes_no_update_or_delete;
ALTER TABLE merkle_nodes ENABLE ALWAYS TRIGGER merkle_nodes_no_truncate;
ALTER TABLE checkpoints ENABLE ALWAYS TRIGGER checkpoints_no_update_or_delete;
ALTER TABLE checkpoints ENABLE ALWAYS TRIGGER checkpoints_no_truncate;
ALTER TABLE checkpoints ENABLE ALWAYS TRIGGER checkpoints_grow;

-- A log appended before this migration: build its tree from the leaf hashes already
-- stored, level by level (every level, in a scratch table), keep the stored levels and
-- the frontier, so the appender finds the tree at the head.
CREATE TEMPORARY TABLE scratch_nodes (
    level smallint, index bigint, hash bytea, PRIMARY KEY (level, index)
) ON COMMIT DROP;
DO $$
DECLARE
    head    bigint;
    lvl     smallint := 0;
    start   bigint := 0;
    width   bigint;
    roots   bytea := ''::bytea;
BEGIN
    SELECT last_position INTO head FROM log_head;
    IF head = 0 THEN
        RETURN;
    END IF;
    INSERT INTO scratch_nodes (level, index, hash)
    SELECT 0, position - 1, leaf_hash FROM events WHERE position <= head;
    LOOP
        INSERT INTO scratch_nodes (level, index, hash)
        SELECT lvl + 1, l.index / 2, sha256('\x01'::bytea || l.hash || r.hash)
        FROM scratch_nodes l
        JOIN scratch_nodes r ON r.level = lvl AND r.index = l.index + 1
        WHERE l.level = lvl AND l.index % 2 = 0;
        EXIT WHEN NOT FOUND;
        lvl := lvl + 1;
    END LOOP;
    INSERT INTO merkle_nodes (level, index, hash)
    SELECT level, index, hash FROM scratch_nodes WHERE level > 0 AND level % 4 = 0;
    -- the frontier: one perfect subtree per set bit of head, largest first
    FOR lvl IN REVERSE 62..0 LOOP
        width := (1::bigint << lvl);
        IF head & width <> 0 THEN
            roots := roots || (SELECT hash FROM scratch_nodes
                               WHERE level = lvl AND index = start / width);
            start := start + width;
        END IF;
    END LOOP;
    UPDATE log_head SET frontier = int8send(head) || roots;
END
$$;

-- The frontier always describes the tree of exactly last_position leaves.
ALTER TABLE log_head ADD CONSTRAINT log_head_frontier_at_head
    CHECK (substring(frontier FROM 1 FOR 8) = int8send(last_position)
           AND length(frontier) = 8 + 32 * length(replace(last_position::bit(64)::text, '0', '')));

GRANT SELECT, INSERT ON merkle_nodes TO hamkari_app;
GRANT SELECT, INSERT ON checkpoints TO hamkari_app;
