"""Each fraud signal on a minimal hand-made case, and its honest look-alike."""

from __future__ import annotations

from datetime import date, timedelta

from registry.credit.model import Severity, SignalCode
from registry.credit.scoring import Portfolio
from tests.registry.credit.trades import Trades

AS_OF = date(2026, 10, 15)
START = date(2024, 6, 1)


def _codes(trades: Trades, seller: str) -> dict[SignalCode, Severity]:
    found = Portfolio(trades.facts, AS_OF).assess(seller)
    return {s.code: s.severity for s in found.signals if s.fraud}


def _signal(trades: Trades, seller: str, code: SignalCode):  # type: ignore[no-untyped-def]
    found = Portfolio(trades.facts, AS_OF).assess(seller)
    return next(s for s in found.signals if s.code is code)


def test_three_parties_invoicing_each_other_in_a_ring_is_circular_trade() -> None:
    trades = Trades()
    ring = ("A", "B", "C")
    for i, seller in enumerate(ring):
        trades.history(seller, [ring[(i + 1) % 3]], date(2026, 1, 1), AS_OF)

    signal = _signal(trades, "A", SignalCode.CIRCULAR_TRADE)

    assert signal.severity is Severity.HIGH
    assert set(signal.party_ids) == set(ring)
    assert "A -> B -> C -> A" in signal.reason
    a_to_b = {
        i.id
        for i in trades.facts.invoices
        if (i.seller, i.buyer) == ("A", "B") and i.issued_on <= AS_OF
    }
    assert a_to_b <= set(signal.record_ids)


def test_supply_chain_without_a_way_back_is_no_circular_trade() -> None:
    trades = Trades()
    for seller, buyer in (("A", "B"), ("B", "C"), ("C", "D")):
        trades.history(seller, [buyer], date(2026, 1, 1), AS_OF)

    assert SignalCode.CIRCULAR_TRADE not in _codes(trades, "A")


def test_two_parties_invoicing_each_other_alike_is_a_reciprocal_flow() -> None:
    trades = Trades()
    trades.history("A", ["B"], date(2026, 1, 1), AS_OF)
    trades.history("B", ["A"], date(2026, 1, 1), AS_OF)

    assert _codes(trades, "A")[SignalCode.RECIPROCAL_FLOW] is Severity.HIGH


def test_supplier_buying_a_little_back_is_no_reciprocal_flow() -> None:
    trades = Trades()
    trades.history("A", ["B"], date(2026, 1, 1), AS_OF, amount=1_000_000)
    trades.history("B", ["A"], date(2026, 1, 1), AS_OF, amount=100_000)

    assert SignalCode.RECIPROCAL_FLOW not in _codes(trades, "A")


def test_seller_sharing_a_director_with_its_own_buyer_is_flagged() -> None:
    trades = Trades()
    trades.party("S", director="Jane Roe")
    trades.party("B", director="JANE  ROE")
    trades.history("S", ["B"], START, AS_OF)

    signal = _signal(trades, "S", SignalCode.SHARED_IDENTIFIER)

    assert signal.severity is Severity.HIGH
    assert signal.party_ids == ("S", "B")
    assert "director" in signal.reason
    assert signal.record_ids  # the invoices between them


def test_sharing_one_address_with_an_unrelated_party_is_no_signal() -> None:
    trades = Trades()
    trades.party("S", address="Business Park 1")
    trades.party("T", address="Business Park 1")
    trades.history("S", ["B"], START, AS_OF)

    assert _codes(trades, "S") == {}


def test_sharing_a_bank_account_with_anyone_is_flagged() -> None:
    trades = Trades()
    trades.party("S", bank_account="DE89 3704 0044 0532 0130 00")
    trades.party("T", bank_account="de89370400440532013000")
    trades.history("S", ["B"], START, AS_OF)

    assert _codes(trades, "S")[SignalCode.SHARED_IDENTIFIER] is Severity.HIGH


def test_recent_invoices_without_delivery_are_flagged_with_their_ids() -> None:
    trades = Trades()
    trades.history("S", ["B", "C"], START, AS_OF)
    invented = [
        trades.trade("S", "B", AS_OF - timedelta(days=10 * i + 8), delivery=False)
        for i in range(5)
    ]

    signal = _signal(trades, "S", SignalCode.INVOICE_WITHOUT_DELIVERY)

    assert signal.severity is Severity.HIGH
    assert set(signal.record_ids) == {i.id for i in invented}


def test_seller_that_always_invoiced_without_delivery_notes_is_not_flagged() -> None:
    trades = Trades()
    trades.history("S", ["B", "C"], START, AS_OF, delivery=False)

    assert SignalCode.INVOICE_WITHOUT_DELIVERY not in _codes(trades, "S")


def test_invoices_exceeding_their_order_are_flagged() -> None:
    trades = Trades()
    trades.history("S", ["B", "C"], START, AS_OF)
    for i in range(5):
        day = AS_OF - timedelta(days=10 * i + 8)
        trades.trade("S", "B", day, invoiced_share=1.5)

    signal = _signal(trades, "S", SignalCode.INVOICE_EXCEEDS_ORDER)

    assert signal.severity is Severity.HIGH
    assert any(record.startswith("PO-") for record in signal.record_ids)


def test_deliveries_dated_after_their_invoice_are_flagged() -> None:
    trades = Trades()
    trades.history("S", ["B", "C"], START, AS_OF)
    for i in range(5):
        day = AS_OF - timedelta(days=10 * i + 30)
        trades.trade("S", "B", day, deliver_after=20, invoice_after_delivery=-15)

    assert SignalCode.DELIVERY_AFTER_INVOICE in _codes(trades, "S")


def test_recent_round_amounts_against_an_unround_history_are_flagged() -> None:
    trades = Trades()
    trades.history("S", ["B", "C"], START, AS_OF)
    for i in range(20):
        trades.trade("S", "B", AS_OF - timedelta(days=4 * i + 8), 5_000_000)

    assert _codes(trades, "S")[SignalCode.ROUND_AMOUNTS] is Severity.MEDIUM


def test_seller_that_always_priced_round_is_not_flagged_for_it() -> None:
    trades = Trades()
    trades.history("S", ["B", "C"], START, AS_OF, amount=1_000_000)

    assert SignalCode.ROUND_AMOUNTS not in _codes(trades, "S")


def test_volume_far_above_the_sellers_own_expectation_is_a_velocity_spike() -> None:
    trades = Trades()
    trades.history("S", ["B", "C"], START, AS_OF - timedelta(days=45))
    trades.history("S", ["B", "C"], AS_OF - timedelta(days=44), AS_OF, per_month=30)

    signal = _signal(trades, "S", SignalCode.VELOCITY_SPIKE)

    assert signal.severity is Severity.HIGH
    assert "seasonal expectation" in signal.reason


def test_many_new_buyers_at_once_are_a_counterparty_burst() -> None:
    trades = Trades()
    trades.history("S", ["B", "C"], START, AS_OF)
    for i in range(6):
        trades.trade("S", f"NEW{i}", AS_OF - timedelta(days=5 * i + 8))

    signal = _signal(trades, "S", SignalCode.COUNTERPARTY_BURST)

    assert {f"NEW{i}" for i in range(6)} <= set(signal.party_ids)
