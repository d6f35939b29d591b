"""Judging the engine against a generated economy's ground truth.

Invariants:
    * Only this module reads labels; it scores first (through
      :class:`~registry.credit.scoring.Portfolio`, which never sees them) and
      compares afterwards.
    * Realised behaviour is what the economy did in its ``horizon_days`` after
      ``as_of``: a seller's realised exposure is the mean, over those days, of its
      invoices issued and not yet paid (open receivables). A limit above it lent
      more than the trade could repay.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from registry.credit.facts import TradeFacts
from registry.credit.model import Band
from registry.credit.scoring import Portfolio, SellerAssessment
from registry.credit.synthetic import Economy, SellerLabel
from registry.credit.thresholds import DEFAULT, Thresholds


@dataclass(slots=True)
class Evaluation:
    """The figures of one economy."""

    seed: int
    as_of: date
    sellers: int
    fraudulent: int
    true_positives: int
    false_positives: int
    false_negatives: int
    suspicious_honest: int
    recall_by_kind: dict[str, tuple[int, int]]
    seasonal_honest: int
    seasonal_declined: int
    seasonal_reviewed: int
    seasonal_at_peak: int
    seasonal_at_peak_approved: int
    honest_declined: int
    drift_sellers: int
    drift_warned: int
    honest_false_drift: int
    limit_ratios: list[float] = field(default_factory=list)
    peak_limit_ratios: list[float] = field(default_factory=list)
    over_limit: int = 0
    fraud_limit_minor: int = 0
    honest_limit_minor: int = 0
    build_seconds: float = 0.0
    score_seconds: float = 0.0
    per_seller_ms: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.fraudulent if self.fraudulent else 1.0


def realised_exposure(facts: TradeFacts, as_of: date, days: int) -> dict[str, float]:
    """Per seller: mean open receivables (issued, unpaid) over the days after as_of."""
    paid: dict[str, date] = {}
    for payment in facts.payments:
        paid[payment.invoice_id] = max(
            paid.get(payment.invoice_id, payment.paid_on), payment.paid_on
        )
    end = as_of + timedelta(days=days)
    total: dict[str, float] = defaultdict(float)
    for invoice in facts.invoices:
        if invoice.issued_on > end:
            continue
        settled = paid.get(invoice.id, end + timedelta(days=1))
        first = max(invoice.issued_on, as_of + timedelta(days=1))
        last = min(settled - timedelta(days=1), end)
        open_days = (last - first).days + 1
        if open_days > 0:
            total[invoice.seller] += invoice.amount_minor * open_days / days
    return dict(total)


def evaluate(
    economy: Economy, thresholds: Thresholds = DEFAULT, *, time_each: bool = False
) -> Evaluation:
    """Score the economy as of its ``as_of`` day and compare with its labels."""
    started = time.perf_counter()
    portfolio = Portfolio(economy.facts, economy.as_of, thresholds)
    built = time.perf_counter()
    assessments: dict[str, SellerAssessment] = {}
    per_seller: list[float] = []
    for seller in portfolio.ledger.sellers():
        tick = time.perf_counter()
        assessments[seller] = portfolio.assess(seller)
        per_seller.append((time.perf_counter() - tick) * 1000)
    scored = time.perf_counter()
    horizon = (economy.horizon_end - economy.as_of).days
    realised = realised_exposure(economy.facts, economy.as_of, horizon)
    result = _compare(economy, assessments, realised)
    result.build_seconds = built - started
    result.score_seconds = scored - built
    result.per_seller_ms = per_seller if time_each else []
    return result


def _compare(
    economy: Economy,
    assessments: dict[str, SellerAssessment],
    realised: dict[str, float],
) -> Evaluation:
    labels = economy.labels
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    counts: Counter[str] = Counter()
    ratios: list[float] = []
    peak_ratios: list[float] = []
    limits = {"fraud": 0, "honest": 0}
    for seller, label in sorted(labels.items()):
        found = assessments.get(seller)
        if found is None:
            continue
        decision = found.decision
        _count(counts, label, found)
        if label.fraud:
            kinds[label.fraud][1] += 1
            kinds[label.fraud][0] += found.flagged
            limits["fraud"] += decision.limit_minor
            continue
        limits["honest"] += decision.limit_minor
        exposure = realised.get(seller, 0.0)
        if decision.band is not Band.DECLINE and decision.limit_minor and exposure > 0:
            ratio = decision.limit_minor / exposure
            ratios.append(ratio)
            counts["over_limit"] += ratio > 1
            if _at_peak(label, found):
                peak_ratios.append(ratio)
    return Evaluation(
        seed=economy.seed,
        as_of=economy.as_of,
        sellers=len(assessments),
        fraudulent=sum(1 for label in labels.values() if label.fraud),
        true_positives=counts["tp"],
        false_positives=counts["fp"],
        false_negatives=counts["fn"],
        suspicious_honest=counts["suspicious_honest"],
        recall_by_kind={k: (v[0], v[1]) for k, v in sorted(kinds.items())},
        seasonal_honest=counts["seasonal"],
        seasonal_declined=counts["seasonal_declined"],
        seasonal_reviewed=counts["seasonal_reviewed"],
        seasonal_at_peak=counts["peak"],
        seasonal_at_peak_approved=counts["peak_approved"],
        honest_declined=counts["honest_declined"],
        drift_sellers=counts["drift"],
        drift_warned=counts["drift_warned"],
        honest_false_drift=counts["false_drift"],
        limit_ratios=ratios,
        peak_limit_ratios=peak_ratios,
        over_limit=counts["over_limit"],
        fraud_limit_minor=limits["fraud"],
        honest_limit_minor=limits["honest"],
    )


def _at_peak(label: SellerLabel, found: SellerAssessment) -> bool:
    return label.seasonal and found.season.index[found.as_of.month - 1] >= 1.3


def _count(counts: Counter[str], label: SellerLabel, found: SellerAssessment) -> None:
    band = found.decision.band
    warned = any(s.code.value == "fulfilment_drift" for s in found.signals)
    if label.fraud:
        counts["tp" if found.flagged else "fn"] += 1
        return
    counts["fp"] += found.flagged
    counts["suspicious_honest"] += found.suspicious
    counts["honest_declined"] += band is Band.DECLINE
    if label.drift:
        counts["drift"] += 1
        counts["drift_warned"] += warned
    else:
        counts["false_drift"] += warned
    if label.seasonal:
        counts["seasonal"] += 1
        counts["seasonal_declined"] += band is Band.DECLINE
        counts["seasonal_reviewed"] += band is Band.REVIEW
        if _at_peak(label, found):
            counts["peak"] += 1
            counts["peak_approved"] += band is Band.APPROVE


def quantiles(values: list[float]) -> tuple[float, float, float]:
    """10th, 50th and 90th percentiles (zeros when empty)."""
    if len(values) < 2:
        return (values[0],) * 3 if values else (0.0, 0.0, 0.0)
    cuts = statistics.quantiles(values, n=10)
    return cuts[0], statistics.median(values), cuts[-1]
