-- API tokens: only a SHA-256 of each token is stored; the token is shown once at issue.

CREATE TABLE tokens (
    name        text        PRIMARY KEY,
    token_hash  bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    role        text        NOT NULL
                CHECK (role IN ('admin', 'coordinator', 'partner', 'auditor')),
    partner_id  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((role = 'partner') = (partner_id IS NOT NULL))
);

GRANT SELECT ON tokens TO hamkari_app;
