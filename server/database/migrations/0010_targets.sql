-- Targets: what each partner plans to reach (TargetSet), for planned-vs-reached reports.
-- One row per target as last set; the projection `targets` folds them from the log.
--
-- The table is created by whoever owns the read models: `hamkari_readmodel` where a
-- migration gave them an owner of their own, else the server's role as before.

INSERT INTO projections (name) VALUES ('targets');
GRANT SELECT, INSERT, UPDATE ON projections TO hamkari_app;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'hamkari_readmodel') THEN
        SET LOCAL ROLE hamkari_readmodel;
    ELSE
        SET LOCAL ROLE hamkari_app;
    END IF;
END
$$;

CREATE TABLE readmodel.targets (
    target_id           uuid        PRIMARY KEY,
    partner_id          text        NOT NULL,
    sector              text        NOT NULL,
    site_id             text,
    activity            text,
    period_start        date        NOT NULL,
    period_end          date        NOT NULL,
    women               bigint      NOT NULL,
    men                 bigint      NOT NULL,
    girls               bigint      NOT NULL,
    boys                bigint      NOT NULL,
    other               bigint      NOT NULL,
    planned             bigint      NOT NULL,
    reason              text,
    replacements        integer     NOT NULL,
    set_position        bigint      NOT NULL
);
CREATE INDEX ON readmodel.targets (partner_id);

RESET ROLE;
