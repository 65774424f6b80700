-- Projections: where each read model has got to in the log, and the read models.
-- Read models are the server's to write, unlike the log: they live in schema
-- `readmodel`, owned by hamkari_app, so a rebuild can create fresh tables there and
-- swap them in. Their shape must match the Table definitions in server/projections/.

CREATE TABLE projections (
    name                text        PRIMARY KEY,
    -- the last log position this projection's tables reflect
    position            bigint      NOT NULL DEFAULT 0 CHECK (position >= 0),
    -- bumped by every rebuild swap: a runner that read the old tables must not write
    generation          integer     NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- set when an event stopped the projection; cleared by the next success
    error               text,
    error_position      bigint,
    error_at            timestamptz,
    rebuild_started_at  timestamptz,
    rebuilt_at          timestamptz,
    -- why the last rebuild failed (the live tables were kept)
    rebuild_error       text
);
INSERT INTO projections (name)
VALUES ('directory'), ('deliveries'), ('pledges'), ('commitments'), ('partner_record');
GRANT SELECT, INSERT, UPDATE ON projections TO hamkari_app;

CREATE SCHEMA readmodel AUTHORIZATION hamkari_app;
-- reports at a past position fold into temporary tables
DO $$
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO hamkari_app', current_database());
END
$$;

SET LOCAL ROLE hamkari_app;

CREATE TABLE readmodel.partners (
    partner_id          text        PRIMARY KEY,
    name_fa             text        NOT NULL,
    name_en             text        NOT NULL,
    kind                text        NOT NULL,
    country             text,
    suspended           boolean     NOT NULL,
    registered_position bigint      NOT NULL
);

CREATE TABLE readmodel.sites (
    site_id             text        PRIMARY KEY,
    name_fa             text        NOT NULL,
    name_en             text        NOT NULL,
    kind                text        NOT NULL,
    province            text        NOT NULL,
    county              text,
    closed_on           date,
    registered_position bigint      NOT NULL
);

-- every delivery as it now stands; g_month / j_month: year*100+month of period_end
CREATE TABLE readmodel.deliveries (
    delivery_id         uuid        PRIMARY KEY,
    partner_id          text        NOT NULL,
    site_id             text        NOT NULL,
    sector              text        NOT NULL,
    activity            text        NOT NULL,
    period_start        date        NOT NULL,
    period_end          date        NOT NULL,
    women               bigint      NOT NULL,
    men                 bigint      NOT NULL,
    girls               bigint      NOT NULL,
    boys                bigint      NOT NULL,
    other               bigint      NOT NULL,
    total               bigint      NOT NULL,
    population_group    text        NOT NULL,
    nationality         text        NOT NULL,
    pledge_id           uuid,
    g_month             integer     NOT NULL,
    j_month             integer     NOT NULL,
    delivered_position  bigint      NOT NULL,
    corrected_position  bigint
);

-- sums of the deliveries per partner, site, sector, activity and month (both calendars)
CREATE TABLE readmodel.delivery_cells (
    partner_id          text        NOT NULL,
    site_id             text        NOT NULL,
    sector              text        NOT NULL,
    activity            text        NOT NULL,
    g_month             integer     NOT NULL,
    j_month             integer     NOT NULL,
    deliveries          bigint      NOT NULL,
    women               bigint      NOT NULL,
    men                 bigint      NOT NULL,
    girls               bigint      NOT NULL,
    boys                bigint      NOT NULL,
    other               bigint      NOT NULL,
    total               bigint      NOT NULL,
    PRIMARY KEY (partner_id, site_id, sector, activity, g_month, j_month)
);
CREATE INDEX ON readmodel.delivery_cells (g_month);
CREATE INDEX ON readmodel.delivery_cells (j_month);

CREATE TABLE readmodel.pledges (
    pledge_id           uuid        PRIMARY KEY,
    partner_id          text        NOT NULL,
    currency            text        NOT NULL,
    amount              numeric     NOT NULL,
    sectors             text        NOT NULL,
    site_id             text,
    period_start        date        NOT NULL,
    period_end          date        NOT NULL,
    meeting_id          uuid,
    description         text,
    committed_on        date,
    agreement_ref       text,
    cancelled           boolean     NOT NULL,
    disbursed           numeric     NOT NULL,
    disbursements       integer     NOT NULL,
    made_position       bigint      NOT NULL
);
CREATE INDEX ON readmodel.pledges (partner_id);

CREATE TABLE readmodel.commitments (
    commitment_id       uuid        PRIMARY KEY,
    meeting_id          uuid,
    owner_partner_id    text        NOT NULL,
    description_fa      text,
    description_en      text,
    sector              text,
    site_id             text,
    due_on              date        NOT NULL,
    state               text        NOT NULL CHECK (state IN ('open', 'fulfilled', 'withdrawn')),
    percent             integer,
    last_note           text,
    progress_reports    integer     NOT NULL,
    closed_on           date,
    made_position       bigint      NOT NULL
);
CREATE INDEX ON readmodel.commitments (owner_partner_id);
CREATE INDEX ON readmodel.commitments (due_on);

CREATE TABLE readmodel.meetings (
    meeting_id          uuid        PRIMARY KEY,
    held_on             date        NOT NULL,
    title_fa            text        NOT NULL,
    title_en            text        NOT NULL,
    site_id             text,
    chair_partner_id    text        NOT NULL,
    participants        jsonb       NOT NULL,
    held_position       bigint      NOT NULL
);
CREATE INDEX ON readmodel.meetings (held_on);

CREATE TABLE readmodel.presentations (
    presented_position  bigint      PRIMARY KEY,
    meeting_id          uuid        NOT NULL,
    partner_id          text        NOT NULL,
    summary             text        NOT NULL,
    challenges          jsonb       NOT NULL
);
CREATE INDEX ON readmodel.presentations (partner_id);

CREATE TABLE readmodel.challenges (
    challenge_id        uuid        PRIMARY KEY,
    partner_id          text        NOT NULL,
    site_id             text,
    sector              text,
    description         text        NOT NULL,
    reported_on         date        NOT NULL,
    reported_position   bigint      NOT NULL
);
CREATE INDEX ON readmodel.challenges (partner_id);

RESET ROLE;
