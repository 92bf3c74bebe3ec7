"""The per-district audit log: append-only, hash-chained, readable newest first."""
