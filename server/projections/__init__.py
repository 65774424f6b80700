"""Read models for the reports: each a fold over the log plus the tables it persists,
their runners, rebuilds, time travel, and the report queries (docs/projections.md)."""
