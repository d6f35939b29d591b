"""Data credit: profiles, fraud signals, seasonal baselines and decisions.

Pure computation over the dataclasses in :mod:`registry.credit.facts`; no I/O.
Formulas and thresholds are documented in docs/credit.md.
"""
