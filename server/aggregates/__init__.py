"""The domain: one eventsourcing aggregate per stream kind, holding the contract's rules.
Pure: no I/O. `registry.decide` is the entry point; `mapping` connects it to the log."""
