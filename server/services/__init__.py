"""The service layer: plain async functions that load aggregates, decide, and append."""
