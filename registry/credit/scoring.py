"""Scoring a portfolio: one seller, one claim, or everyone, as of one day.

Invariants:
    * :class:`Portfolio` builds what is shared once (the ledger index, the trade
      graph's cycles, the identity index, the industries' seasonal patterns, buyers'
      discipline on demand); scoring a seller then reads only that seller's records
      and its buyers' payment history.
    * Nothing here reads labels, files or clocks: the same facts and ``as_of`` give
      the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from registry.credit.decision import (
    buyers_paid_on_time,
    claim_rate_bps,
    score_terms,
    seller_decision,
    usual_terms_days,
)
from registry.credit.facts import InvoiceFact, Ledger, TradeFacts
from registry.credit.model import (
    Band,
    ClaimDecision,
    Reason,
    SeasonView,
    SellerDecision,
    Severity,
    Signal,
)
from registry.credit.profile import (
    BuyerDiscipline,
    FulfilmentLog,
    SellerProfile,
    buyer_discipline,
    seller_profile,
)
from registry.credit.season import (
    FLAT,
    INDUSTRY_PATTERNS,
    complete_months,
    fulfilment_drift,
    monthly_volumes,
    normalised,
    own_index,
    season_view,
)
from registry.credit.signals import (
    TradeGraph,
    build_identity_index,
    build_trade_graph,
    counterparty_burst_signal,
    identity_signals,
    round_amount_signal,
    three_way_signals,
    velocity_signal,
)
from registry.credit.thresholds import DEFAULT, Thresholds

MIN_INDUSTRY_SELLERS = 3


def is_fraud_flag(signals: Iterable[Signal]) -> bool:
    """One high fraud signal, or two medium ones."""
    fraud = [s for s in signals if s.fraud]
    high = any(s.severity is Severity.HIGH for s in fraud)
    return high or sum(s.severity is Severity.MEDIUM for s in fraud) >= 2


_BAND_ORDER = {Band.APPROVE: 0, Band.REVIEW: 1, Band.DECLINE: 2}


@dataclass(frozen=True, slots=True)
class SellerAssessment:
    """Everything the engine says about one seller."""

    seller: str
    as_of: date
    profile: SellerProfile
    buyers: tuple[BuyerDiscipline, ...]
    season: SeasonView
    signals: tuple[Signal, ...]
    decision: SellerDecision

    @property
    def flagged(self) -> bool:
        """A fraud flag: one high fraud signal, or two medium ones (see
        docs/credit.md); a single medium signal only sends the seller to review."""
        return is_fraud_flag(self.signals)

    @property
    def suspicious(self) -> bool:
        """Any fraud signal at all (not a warning)."""
        return any(s.fraud for s in self.signals)


def measure_industry_indices(
    ledger: Ledger, thresholds: Thresholds
) -> dict[str, tuple[float, ...]]:
    """Each industry's pattern: the mean own index of its established sellers.

    Falls back to :data:`INDUSTRY_PATTERNS` (or flat) for an industry with fewer
    than :data:`MIN_INDUSTRY_SELLERS` sellers of ``own_season_min_months``.
    """
    window_start = ledger.as_of - timedelta(days=thresholds.velocity_window_days - 1)
    pooled: dict[str, list[tuple[float, ...]]] = defaultdict(list)
    for seller, party in ledger.parties.items():
        if party.industry is None:
            continue
        book = ledger.book(seller)
        months = complete_months(book, window_start)
        if len(months) < thresholds.own_season_min_months:
            continue
        own = own_index(monthly_volumes(book.invoices), months)
        if own is not None:
            pooled[party.industry].append(own[0])
    indices = dict(INDUSTRY_PATTERNS)
    for industry, found in pooled.items():
        if len(found) >= MIN_INDUSTRY_SELLERS:
            indices[industry] = normalised(
                [sum(index[m] for index in found) / len(found) for m in range(12)]
            )
    return indices


class Portfolio:
    """The facts of a registry as of one day, ready to score sellers and claims."""

    def __init__(
        self,
        facts: TradeFacts,
        as_of: date,
        thresholds: Thresholds = DEFAULT,
        *,
        graph_invoices: Iterable[InvoiceFact] | None = None,
        industry_indices: Mapping[str, tuple[float, ...]] | None = None,
        trade_graph: TradeGraph | None = None,
    ) -> None:
        """Index the facts.

        Args:
            facts: the records to score from.
            as_of: the scoring day; later facts are ignored.
            thresholds: the engine's thresholds.
            graph_invoices: invoices of the whole registry for the trade graph, when
                ``facts`` holds only a neighbourhood (the service); default: the
                invoices of ``facts``.
            industry_indices: industry -> seasonal index; default: measured from
                ``facts`` (with built-in fallbacks).
            trade_graph: the graph signals, already built for this day (a cache);
                ``graph_invoices`` is then not read.
        """
        self.thresholds = thresholds
        self.ledger = Ledger(facts, as_of)
        if trade_graph is None:
            invoices = graph_invoices
            if invoices is None:
                invoices = self.ledger.invoices.values()
            trade_graph = build_trade_graph(invoices, as_of, thresholds)
        self.graph = trade_graph
        self.identities = build_identity_index(facts.parties.values())
        self.industry_indices = (
            dict(industry_indices)
            if industry_indices is not None
            else measure_industry_indices(self.ledger, thresholds)
        )
        self._buyers: dict[str, BuyerDiscipline] = {}

    @property
    def as_of(self) -> date:
        return self.ledger.as_of

    def buyer(self, buyer: str) -> BuyerDiscipline:
        """The buyer's payment discipline (computed once per portfolio)."""
        found = self._buyers.get(buyer)
        if found is None:
            found = buyer_discipline(self.ledger, buyer, self.thresholds)
            self._buyers[buyer] = found
        return found

    def _counterparties(self, seller: str) -> dict[str, list[str]]:
        trades: dict[str, list[str]] = defaultdict(list)
        for invoice in self.ledger.book(seller).invoices:
            trades[invoice.buyer].append(invoice.id)
        for invoice in self.ledger.invoices_by_buyer.get(seller, ()):
            trades[invoice.seller].append(invoice.id)
        return trades

    def signals(self, seller: str, season: SeasonView) -> list[Signal]:
        """Every fraud signal of the seller, graph and identity first."""
        t = self.thresholds
        trades = self._counterparties(seller)
        found = self.graph.signals(seller)
        for signal in identity_signals(self.identities, seller, set(trades)):
            other = signal.party_ids[1]
            found.append(
                Signal(
                    signal.code,
                    signal.severity,
                    signal.reason,
                    tuple(trades.get(other, ())),
                    signal.party_ids,
                )
            )
        found += three_way_signals(self.ledger, seller, t)
        book = self.ledger.book(seller)
        months = len(
            complete_months(
                book, self.as_of - timedelta(days=t.velocity_window_days - 1)
            )
        )
        optional = (
            round_amount_signal(self.ledger, seller, t),
            velocity_signal(self.ledger, seller, season, months, t),
            counterparty_burst_signal(self.ledger, seller, t),
        )
        found += [s for s in optional if s is not None]
        return found

    def assess(self, seller: str) -> SellerAssessment:
        """Profile, signals, season and decision of one seller."""
        t = self.thresholds
        fulfilment = FulfilmentLog(self.ledger, self.ledger.book(seller), t)
        profile = seller_profile(self.ledger, seller, fulfilment, t)
        party = self.ledger.parties.get(seller)
        industry = party.industry if party is not None else None
        index = self.industry_indices.get(industry, FLAT) if industry else FLAT
        season = season_view(self.ledger, seller, index, t)
        signals = self.signals(seller, season)
        drift_signal, drift = fulfilment_drift(self.ledger, seller, fulfilment, t)
        if drift_signal is not None:
            signals.append(drift_signal)

        start = self.as_of - timedelta(days=t.profile_days)
        by_buyer: dict[str, int] = defaultdict(int)
        terms = []
        for invoice in self.ledger.book(seller).invoices:
            if invoice.issued_on > start:
                by_buyer[invoice.buyer] += invoice.amount_minor
                terms.append((invoice.due_on - invoice.issued_on).days)
        buyers = [(self.buyer(b), amount) for b, amount in sorted(by_buyer.items())]
        score = score_terms(profile, buyers_paid_on_time(profile, buyers))
        decision = seller_decision(
            profile,
            score,
            signals,
            season,
            drift if drift_signal else 0.0,
            usual_terms_days(terms),
            self.as_of,
            t,
        )
        return SellerAssessment(
            seller,
            self.as_of,
            profile,
            tuple(b for b, _ in buyers),
            season,
            tuple(signals),
            decision,
        )

    def assess_all(self) -> dict[str, SellerAssessment]:
        """Every seller that issued an invoice."""
        return {seller: self.assess(seller) for seller in self.ledger.sellers()}

    def assess_claim(
        self,
        invoice_id: str,
        outstanding_minor: int = 0,
        assessment: SellerAssessment | None = None,
    ) -> ClaimDecision:
        """Band, grade and discount rate of one invoice offered for financing.

        Args:
            invoice_id: the invoice's id.
            outstanding_minor: the seller's claims already financed and unpaid.
            assessment: the seller's assessment, when already computed.

        Raises:
            KeyError: no such invoice on or before ``as_of``.
        """
        invoice = self.ledger.invoices[invoice_id]
        seller = assessment or self.assess(invoice.seller)
        decision = seller.decision
        buyer = self.buyer(invoice.buyer)
        tenor = max(0, (invoice.due_on - self.as_of).days)
        rate, rate_reason = claim_rate_bps(
            decision.grade, buyer, tenor, self.thresholds
        )

        band = decision.band
        reasons = [
            Reason(
                "seller_band",
                f"seller is {decision.band.value}: grade {decision.grade}, "
                f"limit {decision.limit_minor}",
            )
        ]
        for code, message, worse in self._claim_checks(
            invoice, buyer, outstanding_minor, decision
        ):
            reasons.append(Reason(code, message, (invoice.id,)))
            if _BAND_ORDER[worse] > _BAND_ORDER[band]:
                band = worse
        reasons.append(rate_reason)
        reasons += [r for r in decision.reasons if r.code not in ("band_approve",)]
        return ClaimDecision(
            invoice_id=invoice.id,
            seller=invoice.seller,
            buyer=invoice.buyer,
            band=band,
            grade=decision.grade,
            discount_rate_bps=rate,
            amount_minor=invoice.amount_minor,
            limit_minor=decision.limit_minor,
            outstanding_minor=outstanding_minor,
            reasons=tuple(reasons),
        )

    def _claim_checks(
        self,
        invoice: InvoiceFact,
        buyer: BuyerDiscipline,
        outstanding_minor: int,
        decision: SellerDecision,
    ) -> list[tuple[str, str, Band]]:
        ledger = self.ledger
        checks: list[tuple[str, str, Band]] = []
        deliveries = [
            ledger.deliveries[d] for d in invoice.delivery_ids if d in ledger.deliveries
        ]
        if not deliveries:
            checks.append(
                (
                    "claim_without_delivery",
                    "the invoice has no matching delivery",
                    Band.REVIEW,
                )
            )
        orders = [ledger.orders[o] for o in invoice.order_ids if o in ledger.orders]
        ordered = sum(o.amount_minor for o in orders)
        if (
            orders
            and invoice.amount_minor > (1 + self.thresholds.exceed_tolerance) * ordered
        ):
            checks.append(
                (
                    "claim_exceeds_order",
                    f"the invoice exceeds its orders "
                    f"({invoice.amount_minor} > {ordered})",
                    Band.REVIEW,
                )
            )
        if invoice.id in ledger.disputes_by_invoice:
            checks.append(
                ("claim_disputed", "the buyer disputed this invoice", Band.DECLINE)
            )
        if ledger.paid_on(invoice.id) is not None:
            checks.append(("claim_paid", "the invoice is already paid", Band.DECLINE))
        if invoice.due_on < self.as_of:
            checks.append(
                ("claim_past_due", "the invoice is past its due date", Band.DECLINE)
            )
        if outstanding_minor + invoice.amount_minor > decision.limit_minor:
            checks.append(
                (
                    "claim_over_limit",
                    f"financed {outstanding_minor} + this {invoice.amount_minor} "
                    f"exceeds the limit {decision.limit_minor}",
                    Band.REVIEW,
                )
            )
        on_time = buyer.paid_on_time_share.value
        if on_time is not None and on_time < 0.7:
            checks.append(
                (
                    "buyer_pays_late",
                    f"the buyer paid only {on_time:.0%} of its invoices on time",
                    Band.REVIEW,
                )
            )
        return checks
