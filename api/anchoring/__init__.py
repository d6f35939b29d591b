"""Anchoring: the outbox worker, its chain-transaction pipeline, the reconciler and
the start-up check (see docs/anchoring.md)."""
