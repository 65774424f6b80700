-- Report attestations the server signed (server/audit/attestation.py): kept so that the
-- short code printed on a paper report finds its signed statement again (the verify page,
-- GET /v1/reports/attestations/{code}). Append-only like the other audit tables: a
-- statement once signed is a fact about what the server said.
CREATE TABLE report_attestations (
    code           text        PRIMARY KEY CHECK (code ~ '^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$'),
    report         text        NOT NULL,
    partner_id     text,       -- the partner a partner's record is about (who may read it)
    as_of_position bigint      NOT NULL CHECK (as_of_position >= 0),
    note           text        NOT NULL,
    attested_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER report_attestations_no_update_or_delete
    BEFORE UPDATE OR DELETE ON report_attestations
    FOR EACH ROW EXECUTE FUNCTION hamkari_reject_change();
CREATE TRIGGER report_attestations_no_truncate
    BEFORE TRUNCATE ON report_attestations
    FOR EACH STATEMENT EXECUTE FUNCTION hamkari_reject_change();
ALTER TABLE report_attestations ENABLE ALWAYS TRIGGER report_attestations_no_update_or_delete;
ALTER TABLE report_attestations ENABLE ALWAYS TRIGGER report_attestations_no_truncate;

GRANT SELECT, INSERT ON report_attestations TO hamkari_app;
