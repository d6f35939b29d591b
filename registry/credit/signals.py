"""Fraud signals, each with a reason code and the records and parties behind it.

Invariants:
    * Graph signals read the buyer-seller graph of the last ``graph_days``: an edge
      seller -> buyer weighs the invoiced amount. A cycle of two (reciprocal flow)
      or of three to ``cycle_max_length`` parties (circular trade) is a signal when
      its smallest edge is at least ``*_similarity`` of its largest: money going
      round in similar amounts, not a supplier that also buys a little back. Only
      edges of at least ``graph_min_edge_minor`` count, and cycles are searched
      inside strongly connected components only (a supply chain has none).
    * Identity signals compare normalised identifiers (tax id, bank account,
      address, director) between distinct parties. Sharing a bank account, sharing
      two or more kinds, or sharing anything with one's own counterparty is high;
      sharing one address or one director with an unrelated party is no signal.
    * Three-way match, round amounts, velocity and new-counterparty signals compare
      the seller with its own history and its seasonal expectation, never with
      other sellers' levels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import networkx as nx

from registry.credit.facts import InvoiceFact, Ledger, PartyFacts, normalise_identifier
from registry.credit.model import SeasonView, Severity, Signal, SignalCode
from registry.credit.thresholds import Thresholds


@dataclass(slots=True)
class TradeGraph:
    """Signals of the buyer-seller graph, precomputed per party."""

    by_party: dict[str, list[Signal]] = field(default_factory=lambda: defaultdict(list))
    edges: int = 0
    cycles_checked: int = 0

    def signals(self, party: str) -> list[Signal]:
        return list(self.by_party.get(party, ()))


def build_trade_graph(
    invoices: Iterable[InvoiceFact], as_of: date, thresholds: Thresholds
) -> TradeGraph:
    """Find circular trade and reciprocal flows among invoices up to ``as_of``.

    Args:
        invoices: invoices of the whole registry (older ones are ignored).
        as_of: the scoring date.
        thresholds: the engine's thresholds.

    Returns:
        The graph signals of every party on a flagged cycle.
    """
    start = as_of - timedelta(days=thresholds.graph_days)
    volume: dict[tuple[str, str], int] = defaultdict(int)
    cited: dict[tuple[str, str], list[str]] = defaultdict(list)
    for invoice in invoices:
        if start < invoice.issued_on <= as_of and invoice.seller != invoice.buyer:
            key = (invoice.seller, invoice.buyer)
            volume[key] += invoice.amount_minor
            cited[key].append(invoice.id)
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_edges_from(
        key
        for key, amount in volume.items()
        if amount >= thresholds.graph_min_edge_minor
    )
    result = TradeGraph(edges=graph.number_of_edges())
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        sub = graph.subgraph(component)
        for cycle in nx.simple_cycles(sub, length_bound=thresholds.cycle_max_length):
            result.cycles_checked += 1
            _judge_cycle(result, list(cycle), volume, cited, thresholds)
    return result


def _judge_cycle(
    result: TradeGraph,
    cycle: list[str],
    volume: Mapping[tuple[str, str], int],
    cited: Mapping[tuple[str, str], list[str]],
    thresholds: Thresholds,
) -> None:
    first = cycle.index(min(cycle))
    cycle = cycle[first:] + cycle[:first]  # a stable way to write the same ring
    edges = [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))]
    amounts = [volume[e] for e in edges]
    similarity = min(amounts) / max(amounts)
    reciprocal = len(cycle) == 2
    needed = (
        thresholds.reciprocal_similarity if reciprocal else thresholds.cycle_similarity
    )
    if similarity < needed:
        return
    path = " -> ".join([*cycle, cycle[0]])
    records = tuple(i for e in edges for i in cited[e])
    if reciprocal:
        code = SignalCode.RECIPROCAL_FLOW
        reason = (
            f"reciprocal flow {path}: each side invoiced the other "
            f"{min(amounts)}-{max(amounts)} minor units in the last "
            f"{thresholds.graph_days} days ({similarity:.0%} alike)"
        )
    else:
        code = SignalCode.CIRCULAR_TRADE
        reason = (
            f"circular trade {path}: {len(cycle)} parties invoice each other in a "
            f"ring, edges {min(amounts)}-{max(amounts)} minor units "
            f"({similarity:.0%} alike)"
        )
    signal = Signal(code, Severity.HIGH, reason, records, tuple(cycle))
    for party in cycle:
        result.by_party[party].append(signal)


@dataclass(slots=True)
class IdentityIndex:
    """Which parties share which normalised identifier."""

    holders: dict[tuple[str, str], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )
    of_party: dict[str, list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def build_identity_index(parties: Iterable[PartyFacts]) -> IdentityIndex:
    """Index every party's identifiers by normalised value."""
    index = IdentityIndex()
    for party in parties:
        for kind, value in party.identifiers:
            key = (kind, normalise_identifier(value))
            if key[1]:
                index.holders[key].add(party.id)
                index.of_party[party.id].append(key)
    return index


def identity_signals(
    index: IdentityIndex, party: str, counterparties: set[str]
) -> list[Signal]:
    """Parties that share identifiers with ``party`` in a way that matters."""
    shared: dict[str, set[str]] = defaultdict(set)
    for key in index.of_party.get(party, ()):
        for other in index.holders[key]:
            if other != party:
                shared[other].add(key[0])
    signals = []
    for other, kinds in sorted(shared.items()):
        trades = other in counterparties
        if not (trades or "bank_account" in kinds or len(kinds) >= 2):
            continue
        relation = "its own counterparty" if trades else "another party"
        signals.append(
            Signal(
                SignalCode.SHARED_IDENTIFIER,
                Severity.HIGH,
                f"shares {', '.join(sorted(kinds))} with {relation} {other}",
                (),
                (party, other),
            )
        )
    return signals


def three_way_signals(
    ledger: Ledger, seller: str, thresholds: Thresholds
) -> list[Signal]:
    """Invoices without a delivery, exceeding their order, or delivered after.

    Each kind of failure counts only when its recent share is at least
    ``match_history_factor`` times the seller's own earlier share: a seller that
    has always invoiced services without delivery notes is not suspicious for it.
    """
    start = ledger.as_of - timedelta(days=thresholds.match_days)
    book = ledger.book(seller).invoices
    invoices = [i for i in book if i.issued_on > start]
    year_before = start - timedelta(days=365)
    earlier = [i for i in book if year_before < i.issued_on <= start]
    recent = _match_failures(ledger, seller, invoices, thresholds)
    if not any(
        _match_severity(len(failing), len(invoices), 0.0, thresholds)
        for failing, _ in recent.values()
    ):
        return []  # nothing to hold against the seller's history
    before = _match_failures(ledger, seller, earlier, thresholds)
    found = []
    for code, what in (
        (SignalCode.INVOICE_WITHOUT_DELIVERY, "have no matching delivery"),
        (SignalCode.INVOICE_EXCEEDS_ORDER, "exceed their order"),
        (SignalCode.DELIVERY_AFTER_INVOICE, "were invoiced before the goods arrived"),
    ):
        failing, cited = recent[code]
        usual = len(before[code][0]) / len(earlier) if earlier else 0.0
        severity = _match_severity(len(failing), len(invoices), usual, thresholds)
        if severity is not None:
            reason = (
                f"{len(failing)} of {len(invoices)} invoices of the last "
                f"{thresholds.match_days} days {what}, against {usual:.0%} before"
            )
            found.append(Signal(code, severity, reason, tuple(cited), (seller,)))
    return found


_Failures = dict[SignalCode, tuple[list[str], list[str]]]


def _match_failures(
    ledger: Ledger, seller: str, invoices: list[InvoiceFact], thresholds: Thresholds
) -> _Failures:
    """Per three-way code: the failing invoices, and every record to cite."""
    missing: list[str] = []
    exceeding: list[str] = []
    late: list[str] = []
    cited_exceeding: list[str] = []
    cited_late: list[str] = []
    late_by = timedelta(days=thresholds.late_delivery_days)
    tolerance = 1 + thresholds.exceed_tolerance
    for invoice in invoices:
        deliveries = [
            ledger.deliveries[d]
            for d in invoice.delivery_ids
            if d in ledger.deliveries and ledger.deliveries[d].seller == seller
        ]
        if not deliveries:
            missing.append(invoice.id)
        elif any(d.delivered_on > invoice.issued_on + late_by for d in deliveries):
            late.append(invoice.id)
            cited_late += [invoice.id, *(d.id for d in deliveries)]
        orders = [ledger.orders[o] for o in invoice.order_ids if o in ledger.orders]
        ordered = sum(o.amount_minor for o in orders)
        if orders and invoice.amount_minor > tolerance * ordered:
            exceeding.append(invoice.id)
            cited_exceeding += [invoice.id, *(o.id for o in orders)]
    return {
        SignalCode.INVOICE_WITHOUT_DELIVERY: (missing, missing),
        SignalCode.INVOICE_EXCEEDS_ORDER: (exceeding, cited_exceeding),
        SignalCode.DELIVERY_AFTER_INVOICE: (late, cited_late),
    }


def _match_severity(
    count: int, total: int, usual: float, thresholds: Thresholds
) -> Severity | None:
    if total == 0:
        return None
    share = count / total
    if share < thresholds.match_history_factor * usual:
        return None  # the seller has always worked this way
    if count >= thresholds.match_high_count and share >= thresholds.match_high_share:
        return Severity.HIGH
    if (
        count >= thresholds.match_medium_count
        and share >= thresholds.match_medium_share
    ):
        return Severity.MEDIUM
    return None


def round_amount_signal(
    ledger: Ledger, seller: str, thresholds: Thresholds
) -> Signal | None:
    """Recent invoices far rounder than the seller's own earlier ones."""
    start = ledger.as_of - timedelta(days=thresholds.round_window_days)
    unit = thresholds.round_unit_minor
    recent = [i for i in ledger.book(seller).invoices if i.issued_on > start]
    earlier = [i for i in ledger.book(seller).invoices if i.issued_on <= start]
    if len(recent) < thresholds.round_min_invoices:
        return None
    rounds = [i.id for i in recent if i.amount_minor % unit == 0]
    share = len(rounds) / len(recent)
    before = (
        sum(1 for i in earlier if i.amount_minor % unit == 0) / len(earlier)
        if earlier
        else 0.0
    )
    if share < thresholds.round_share or share - before < thresholds.round_excess:
        return None
    return Signal(
        SignalCode.ROUND_AMOUNTS,
        Severity.MEDIUM,
        f"{len(rounds)} of {len(recent)} invoices of the last "
        f"{thresholds.round_window_days} days are round multiples of {unit} minor "
        f"units, against {before:.0%} before",
        tuple(rounds),
        (seller,),
    )


def velocity_signal(
    ledger: Ledger,
    seller: str,
    season: SeasonView,
    history_months: int,
    thresholds: Thresholds,
) -> Signal | None:
    """Recent volume far above what the seller's season predicts."""
    if history_months < thresholds.velocity_min_months or season.expected_minor <= 0:
        return None
    ratio = season.recent_minor / season.expected_minor
    # a window longer than a month strays less than one month does
    months = thresholds.velocity_window_days / 30.44
    spread = max(season.volatility, thresholds.velocity_min_volatility) / months**0.5
    surprise = (ratio - 1) / spread
    if ratio < thresholds.velocity_ratio or surprise < thresholds.velocity_surprise:
        return None
    start = ledger.as_of - timedelta(days=thresholds.velocity_window_days - 1)
    recent = tuple(i.id for i in ledger.book(seller).invoices if i.issued_on >= start)
    high = (
        ratio >= thresholds.velocity_high_ratio
        and surprise >= 2 * thresholds.velocity_surprise
    )
    severity = Severity.HIGH if high else Severity.MEDIUM
    return Signal(
        SignalCode.VELOCITY_SPIKE,
        severity,
        f"invoiced {season.recent_minor} minor units in the last "
        f"{thresholds.velocity_window_days} days, {ratio:.1f}x its seasonal "
        f"expectation of {season.expected_minor}; a usual month strays by "
        f"{season.volatility:.0%}",
        recent,
        (seller,),
    )


def counterparty_burst_signal(
    ledger: Ledger, seller: str, thresholds: Thresholds
) -> Signal | None:
    """Many buyers invoiced for the first time lately, against the usual pace."""
    invoices = ledger.book(seller).invoices
    if not invoices:
        return None
    first_seen: dict[str, InvoiceFact] = {}
    for invoice in invoices:
        first_seen.setdefault(invoice.buyer, invoice)
    window = timedelta(days=thresholds.burst_window_days)
    start = ledger.as_of - window
    settled = invoices[0].issued_on + timedelta(days=90)
    if start - settled < timedelta(days=90):
        return None  # too young: every buyer of a young seller is new
    new = [i for i in first_seen.values() if i.issued_on > start]
    earlier = sum(1 for i in first_seen.values() if settled < i.issued_on <= start)
    usual = earlier / ((start - settled).days / window.days)
    if len(new) < thresholds.burst_min_new or len(new) < thresholds.burst_factor * max(
        usual, 1.0
    ):
        return None
    return Signal(
        SignalCode.COUNTERPARTY_BURST,
        Severity.MEDIUM,
        f"{len(new)} buyers invoiced for the first time in the last "
        f"{thresholds.burst_window_days} days, against {usual:.1f} in a usual "
        "period of that length",
        tuple(i.id for i in new),
        (seller, *sorted(i.buyer for i in new)),
    )
