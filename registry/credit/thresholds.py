"""Every threshold of the credit engine, in one place (docs/credit.md explains each).

The defaults were chosen on generated economy seed 1 and evaluated on other seeds
(``scripts/evaluate_credit.py``); the scorer never sees the generator's labels.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Thresholds:
    # profile
    profile_days: int = 365
    default_lead_days: int = 21
    in_full_tolerance: float = 0.98
    on_time_grace_days: int = 0
    paid_on_time_grace_days: int = 3
    # graph: circular trade and reciprocal flows
    graph_days: int = 365
    cycle_max_length: int = 5
    cycle_similarity: float = 0.5
    reciprocal_similarity: float = 0.5
    graph_min_edge_minor: int = 100_000
    # three-way match
    match_days: int = 90
    exceed_tolerance: float = 0.02
    late_delivery_days: int = 2
    match_medium_count: int = 3
    match_medium_share: float = 0.08
    match_history_factor: float = 3.0
    match_high_count: int = 4
    match_high_share: float = 0.15
    # round amounts
    round_unit_minor: int = 10_000
    round_window_days: int = 90
    round_min_invoices: int = 5
    round_share: float = 0.5
    round_excess: float = 0.3
    # velocity against the seasonal expectation
    velocity_window_days: int = 45
    velocity_ratio: float = 2.5
    velocity_high_ratio: float = 3.5
    velocity_min_months: int = 6
    velocity_surprise: float = 3.0
    velocity_min_volatility: float = 0.15
    # new counterparties
    burst_window_days: int = 60
    burst_min_new: int = 4
    burst_factor: float = 3.0
    # seasonal baseline
    own_season_full_months: int = 24
    own_season_min_months: int = 12
    # fulfilment drift
    drift_window_days: int = 90
    drift_min_deliveries: int = 8
    drift_drop: float = 0.15
    drift_surprise: float = 2.5
    # decision
    min_tenure_months: float = 6.0
    min_invoices: int = 10
    advance_rate: float = 0.8
    grade_cuts: tuple[float, ...] = (0.85, 0.7, 0.55, 0.4)
    base_rate_bps: int = 500
    grade_spread_bps: tuple[int, ...] = (0, 100, 250, 500, 900)
    buyer_late_bps_per_day: int = 10
    buyer_late_cap_bps: int = 400
    long_tenor_days: int = 90
    long_tenor_bps: int = 50


DEFAULT = Thresholds()
