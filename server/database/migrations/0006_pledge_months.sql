-- Pledges and disbursements by month: the pledges read model learns when money moved.
-- `pledges.made_on` is the day a pledge was recorded (Asia/Tehran: PledgeMade carries
-- no date of its own); `disbursements` keeps every disbursement with its own
-- `disbursed_on`. A report can then say what was pledged and disbursed in a month of
-- either calendar (docs/projections.md, "Pledges by month").
--
-- The rows already stored lack these dates, so the pledges projection is folded again
-- from the log by the one fold: its tables are recreated empty and, in a database whose
-- runner had got anywhere, its position goes back to 0 with a new generation. The
-- runner replays the pledge events at start (docs/projections.md, "Changing a read
-- model"); reports say so through their `as_of_position` meanwhile.

SET LOCAL ROLE hamkari_app;

DROP TABLE readmodel.pledges;
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
    -- the day the pledge was recorded, in Asia/Tehran
    made_on             date        NOT NULL,
    made_position       bigint      NOT NULL
);
CREATE INDEX ON readmodel.pledges (partner_id);
CREATE INDEX ON readmodel.pledges (made_on);

-- one row per disbursement added to its pledge, keyed by its place in the log
CREATE TABLE readmodel.disbursements (
    disbursed_position  bigint      PRIMARY KEY,
    disbursement_id     uuid        NOT NULL,
    pledge_id           uuid        NOT NULL,
    amount              numeric     NOT NULL,
    disbursed_on        date        NOT NULL
);
CREATE INDEX ON readmodel.disbursements (disbursed_on);
CREATE INDEX ON readmodel.disbursements (pledge_id);

RESET ROLE;

UPDATE projections
SET position = 0, generation = generation + 1, updated_at = now(),
    error = NULL, error_position = NULL, error_at = NULL
WHERE name = 'pledges' AND position > 0;
