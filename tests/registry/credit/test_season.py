"""Seasonal baselines: a peak seen before is not a spike; a drift warns early."""

from __future__ import annotations

from datetime import date, timedelta

from registry.credit.model import Band, SignalCode
from registry.credit.scoring import Portfolio
from registry.credit.season import INDUSTRY_PATTERNS
from tests.registry.credit.trades import Trades

HARVEST = (0.5, 0.5, 0.5, 0.5, 0.6, 0.8, 1.2, 2.5, 3.0, 2.5, 0.6, 0.5)
PEAK = date(2026, 9, 25)


def test_harvest_peak_seen_in_earlier_years_is_not_penalised() -> None:
    trades = Trades()
    trades.party("FARM", "harvest")
    trades.history("FARM", ["B", "C", "D"], date(2024, 1, 1), PEAK, season=HARVEST)

    found = Portfolio(trades.facts, PEAK).assess("FARM")

    assert found.season.recent_minor > 3 * found.season.level_minor / 2
    assert found.season.index[8] > 2
    assert [s for s in found.signals if s.fraud] == []
    assert found.decision.band is Band.APPROVE
    off_season = Portfolio(trades.facts, date(2026, 4, 15)).assess("FARM")
    assert found.decision.limit_minor > 2 * off_season.decision.limit_minor


def test_young_seller_at_its_first_peak_follows_its_industrys_pattern() -> None:
    trades = Trades()
    trades.party("NEW", "harvest")
    trades.history("NEW", ["B", "C"], date(2026, 1, 5), PEAK, season=HARVEST)

    found = Portfolio(trades.facts, PEAK, industry_indices=INDUSTRY_PATTERNS).assess(
        "NEW"
    )

    assert found.season.own_weight == 0.0
    assert "0% its own pattern" in found.season.explanation
    assert SignalCode.VELOCITY_SPIKE not in {s.code for s in found.signals}


def test_same_peak_without_a_seasonal_history_is_a_velocity_spike() -> None:
    trades = Trades()
    trades.history("SHOP", ["B", "C", "D"], date(2024, 1, 1), PEAK - timedelta(45))
    trades.history("SHOP", ["B", "C", "D"], PEAK - timedelta(44), PEAK, per_month=6 * 3)

    found = Portfolio(trades.facts, PEAK).assess("SHOP")

    assert SignalCode.VELOCITY_SPIKE in {s.code for s in found.signals}


def test_drift_in_fulfilment_warns_why_and_lowers_the_limit_early() -> None:
    steady, drifting = Trades(), Trades()
    as_of = date(2026, 6, 15)
    for trades in (steady, drifting):
        trades.history("S", ["B", "C", "D"], date(2024, 3, 1), as_of - timedelta(90))
    steady.history("S", ["B", "C", "D"], as_of - timedelta(89), as_of)
    drifting.history(
        "S", ["B", "C", "D"], as_of - timedelta(89), as_of, deliver_after=30
    )

    calm = Portfolio(steady.facts, as_of).assess("S")
    found = Portfolio(drifting.facts, as_of).assess("S")

    warning = next(s for s in found.signals if s.code is SignalCode.FULFILMENT_DRIFT)
    assert not warning.fraud
    assert warning.reason.startswith("on-time delivery rate fell to")
    assert warning.record_ids
    assert found.decision.limit_minor < calm.decision.limit_minor / 2
    assert "drift factor" in next(
        r.message for r in found.decision.reasons if r.code == "limit"
    )
    assert not found.flagged


def test_a_dip_in_fulfilment_seen_in_the_same_season_last_year_is_no_drift() -> None:
    trades = Trades()
    as_of = date(2026, 10, 15)
    trades.history("S", ["B", "C"], date(2024, 3, 1), date(2025, 7, 16))
    trades.history(
        "S", ["B", "C"], date(2025, 7, 17), date(2025, 10, 15), deliver_after=18
    )
    trades.history("S", ["B", "C"], date(2025, 10, 16), as_of)

    found = Portfolio(trades.facts, as_of).assess("S")

    assert SignalCode.FULFILMENT_DRIFT not in {s.code for s in found.signals}
