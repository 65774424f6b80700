-- Witnessed checkpoints: the cosignatures (C2SP tlog-cosignature, cosignature/v1) that
-- registered witnesses gave the log's signed checkpoints, append-only like the rest of
-- the audit tables; and the directory's read model of the witnesses themselves.

-- One cosignature per witness per checkpoint: a witness that cosigns a size twice is
-- replaying (the server refuses it before it gets here). `line` is the exact signature
-- line served after the log's own; `cosigned_at` is the witness's signed timestamp.
CREATE TABLE cosignatures (
    checkpoint_size bigint      NOT NULL REFERENCES checkpoints (size),
    witness_name    text        NOT NULL,
    key_id          bytea       NOT NULL CHECK (length(key_id) = 4),
    cosigned_at     bigint      NOT NULL CHECK (cosigned_at >= 0),
    signature       bytea       NOT NULL CHECK (length(signature) = 64),
    line            text        NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (checkpoint_size, witness_name)
);
-- a witness's latest cosignature (replay and order checks, the list of witnesses)
CREATE INDEX cosignatures_by_witness ON cosignatures (witness_name, checkpoint_size DESC);

CREATE TRIGGER cosignatures_no_update_or_delete
    BEFORE UPDATE OR DELETE ON cosignatures
    FOR EACH ROW EXECUTE FUNCTION hamkari_reject_change();
CREATE TRIGGER cosignatures_no_truncate
    BEFORE TRUNCATE ON cosignatures
    FOR EACH STATEMENT EXECUTE FUNCTION hamkari_reject_change();
ALTER TABLE cosignatures ENABLE ALWAYS TRIGGER cosignatures_no_update_or_delete;
ALTER TABLE cosignatures ENABLE ALWAYS TRIGGER cosignatures_no_truncate;

GRANT SELECT, INSERT ON cosignatures TO hamkari_app;

-- The directory projection's witnesses (server/projections/directory.py). Empty is right
-- at any position the directory has reached: no witness event existed before this.
SET LOCAL ROLE hamkari_app;
CREATE TABLE readmodel.witnesses (
    witness_name        text        PRIMARY KEY,
    verifier_key        text        NOT NULL,
    partner_id          text,
    retired             boolean     NOT NULL,
    registered_position bigint      NOT NULL
);
RESET ROLE;
