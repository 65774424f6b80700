-- A partner's record lists the challenges it reported in the period, in the order they
-- were told. With only an index on the partner, PostgreSQL read every challenge the
-- partner ever reported and sorted them, whatever the period: a record of one month
-- took longer as the log grew (docs/benchmarks.md, "Issue 19: flat latency"). This
-- index finds the period's challenges alone, already in the record's order, and
-- serves the partner's lookups the old one served.
--
-- Created by whoever owns the read models, as in 0010; a rebuild copies it to the
-- fresh table (0009's hamkari_rebuild_index).

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'hamkari_readmodel') THEN
        SET LOCAL ROLE hamkari_readmodel;
    ELSE
        SET LOCAL ROLE hamkari_app;
    END IF;
END
$$;

CREATE INDEX challenges_by_partner_and_day
    ON readmodel.challenges (partner_id, reported_on, reported_position);
DROP INDEX IF EXISTS readmodel.challenges_partner_id_idx;

RESET ROLE;
