"""Hamkari's benchmarks: `make bench` runs them side by side against one PostgreSQL."""
