"""Decision bands, limits, claim prices, and the record ids behind every figure."""

from __future__ import annotations

from datetime import date, timedelta

from registry.credit.model import Band
from registry.credit.scoring import Portfolio
from tests.registry.credit.trades import Trades

AS_OF = date(2026, 10, 15)
START = date(2024, 6, 1)


def _established(trades: Trades, seller: str = "S", **options: object) -> None:
    trades.history(seller, ["B", "C", "D"], START, AS_OF, **options)  # type: ignore[arg-type]


def test_clean_established_seller_is_approved_automatically() -> None:
    trades = Trades()
    _established(trades)

    decision = Portfolio(trades.facts, AS_OF).assess("S").decision

    assert decision.band is Band.APPROVE
    assert decision.grade == "A"
    assert decision.limit_minor > 0
    assert decision.reasons[0].code == "band_approve"
    assert {"grade", "season", "limit"} <= {r.code for r in decision.reasons}


def test_a_high_fraud_signal_declines_with_a_zero_limit() -> None:
    trades = Trades()
    trades.party("S", bank_account="DE00 1234")
    trades.party("X", bank_account="DE001234")
    _established(trades)

    decision = Portfolio(trades.facts, AS_OF).assess("S").decision

    assert decision.band is Band.DECLINE
    assert decision.limit_minor == 0
    assert [r.code for r in decision.reasons[:2]] == [
        "band_decline",
        "shared_identifier",
    ]


def test_a_single_medium_signal_sends_the_seller_to_review() -> None:
    trades = Trades()
    _established(trades)
    for i in range(6):
        trades.trade("S", f"NEW{i}", AS_OF - timedelta(days=5 * i + 8))

    found = Portfolio(trades.facts, AS_OF).assess("S")

    assert found.suspicious
    assert not found.flagged
    assert found.decision.band is Band.REVIEW
    assert "medium fraud signal" in found.decision.reasons[0].message


def test_a_young_seller_goes_to_review_with_its_short_history_named() -> None:
    trades = Trades()
    trades.history("S", ["B", "C"], AS_OF - timedelta(days=90), AS_OF)

    decision = Portfolio(trades.facts, AS_OF).assess("S").decision

    assert decision.band is Band.REVIEW
    assert "short history" in decision.reasons[0].message


def test_late_paying_buyers_lower_the_grade() -> None:
    prompt, late = Trades(), Trades()
    _established(prompt)
    _established(late, paid_late=40)

    assert Portfolio(late.facts, AS_OF).assess("S").decision.score < (
        Portfolio(prompt.facts, AS_OF).assess("S").decision.score
    )


def test_claim_on_a_late_paying_buyer_costs_more() -> None:
    trades = Trades()
    trades.history("S", ["PROMPT"], START, AS_OF)
    trades.history("S", ["LATE"], START, AS_OF, paid_late=30)
    portfolio = Portfolio(trades.facts, AS_OF)
    fresh = AS_OF - timedelta(days=3)
    prompt = trades.trade("S", "PROMPT", fresh, paid_late=None)
    late = trades.trade("S", "LATE", fresh, paid_late=None)
    portfolio = Portfolio(trades.facts, AS_OF + timedelta(days=10))

    cheap = portfolio.assess_claim(prompt.id)
    dear = portfolio.assess_claim(late.id)

    assert dear.discount_rate_bps > cheap.discount_rate_bps
    assert "days late on average" in next(
        r.message for r in dear.reasons if r.code == "discount_rate"
    )


def test_claim_beyond_the_limit_goes_to_review() -> None:
    trades = Trades()
    _established(trades)
    invoice = trades.trade("S", "B", AS_OF - timedelta(days=12), paid_late=None)
    portfolio = Portfolio(trades.facts, AS_OF)
    limit = portfolio.assess("S").decision.limit_minor

    decision = portfolio.assess_claim(invoice.id, outstanding_minor=limit)

    assert decision.band is Band.REVIEW
    assert "claim_over_limit" in {r.code for r in decision.reasons}


def test_claim_without_a_delivery_goes_to_review_and_a_disputed_one_is_declined() -> (
    None
):
    trades = Trades()
    _established(trades)
    bare = trades.trade("S", "B", AS_OF - timedelta(days=12), delivery=False)
    disputed = trades.trade("S", "C", AS_OF - timedelta(days=12), paid_late=None)
    trades.dispute(disputed, AS_OF - timedelta(days=1))
    portfolio = Portfolio(trades.facts, AS_OF)

    assert portfolio.assess_claim(bare.id).band is Band.REVIEW
    assert portfolio.assess_claim(disputed.id).band is Band.DECLINE


def test_every_profile_figure_lists_the_records_it_came_from() -> None:
    trades = Trades()
    _established(trades)
    first = trades.facts.invoices[0]
    late = trades.trade("S", "B", AS_OF - timedelta(days=40), deliver_after=30)

    profile = Portfolio(trades.facts, AS_OF).assess("S").profile

    for figure in profile.figures():
        assert figure.record_ids, figure.name
    ids = set(profile.invoiced_minor.record_ids)
    assert late.id in ids
    assert first.id not in ids
    assert set(late.delivery_ids) <= set(profile.on_time_delivery_rate.record_ids)
    assert profile.tenure_months.record_ids == (trades.facts.orders[0].id,)
