-- Two things the projections keep to answer faster (docs/projections.md):
--
-- 1. Fold snapshots: a projection's in-memory fold state at a log position, so that a
--    report `?at_position=N` folds from the newest snapshot at or below N instead of
--    from position 0. A cache, never the record: any row may be deleted at any time.
--    A snapshot is only used by code of the same `version` (a digest of the fold's
--    code and tables) while its projection is at the same `generation` (a rebuild bumps
--    it). It is written in one transaction as `parts` (each a zlib-compressed msgspec
--    msgpack array of at most a few tens of thousands of rows of one table, part 0 of
--    every table always present), so a snapshot is either whole or absent.
--
-- 2. Delivery totals per partner, site, sector and month of each calendar (the
--    `delivery_cells` sums without activity): the deliveries report grouped by all
--    four reads their rows as they are. The primary key carries the sums (INCLUDE),
--    so that report is an index-only scan in its own order: no aggregation, no sort.
--    They are filled here from `delivery_cells` under the deliveries projection's row
--    lock (its runner's commits wait), so they hold the same sums at the same position
--    without a rebuild.

CREATE TABLE projection_snapshots (
    name        text        NOT NULL REFERENCES projections (name),
    version     text        NOT NULL,
    generation  integer     NOT NULL,
    position    bigint      NOT NULL CHECK (position > 0),
    table_name  text        NOT NULL,
    part        integer     NOT NULL CHECK (part >= 0),
    row_count   integer     NOT NULL CHECK (row_count >= 0),
    rows        bytea       NOT NULL,
    taken_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version, generation, position, table_name, part)
);
-- the parts are compressed already: PostgreSQL need not try again
ALTER TABLE projection_snapshots ALTER COLUMN rows SET STORAGE EXTERNAL;
GRANT SELECT, INSERT, DELETE ON projection_snapshots TO hamkari_app;

SELECT 1 FROM projections WHERE name = 'deliveries' FOR UPDATE;

SET LOCAL ROLE hamkari_app;

CREATE TABLE readmodel.delivery_months_g (
    partner_id          text        NOT NULL,
    site_id             text        NOT NULL,
    sector              text        NOT NULL,
    g_month             integer     NOT NULL,
    deliveries          bigint      NOT NULL,
    women               bigint      NOT NULL,
    men                 bigint      NOT NULL,
    girls               bigint      NOT NULL,
    boys                bigint      NOT NULL,
    other               bigint      NOT NULL,
    total               bigint      NOT NULL,
    PRIMARY KEY (partner_id, site_id, sector, g_month)
        INCLUDE (deliveries, women, men, girls, boys, other, total)
);

CREATE TABLE readmodel.delivery_months_j (
    partner_id          text        NOT NULL,
    site_id             text        NOT NULL,
    sector              text        NOT NULL,
    j_month             integer     NOT NULL,
    deliveries          bigint      NOT NULL,
    women               bigint      NOT NULL,
    men                 bigint      NOT NULL,
    girls               bigint      NOT NULL,
    boys                bigint      NOT NULL,
    other               bigint      NOT NULL,
    total               bigint      NOT NULL,
    PRIMARY KEY (partner_id, site_id, sector, j_month)
        INCLUDE (deliveries, women, men, girls, boys, other, total)
);

INSERT INTO readmodel.delivery_months_g
SELECT partner_id, site_id, sector, g_month, sum(deliveries)::bigint, sum(women)::bigint,
       sum(men)::bigint, sum(girls)::bigint, sum(boys)::bigint, sum(other)::bigint,
       sum(total)::bigint
FROM readmodel.delivery_cells
GROUP BY partner_id, site_id, sector, g_month;

INSERT INTO readmodel.delivery_months_j
SELECT partner_id, site_id, sector, j_month, sum(deliveries)::bigint, sum(women)::bigint,
       sum(men)::bigint, sum(girls)::bigint, sum(boys)::bigint, sum(other)::bigint,
       sum(total)::bigint
FROM readmodel.delivery_cells
GROUP BY partner_id, site_id, sector, j_month;

RESET ROLE;
