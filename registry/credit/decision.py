"""From profile, buyers, signals and season to a band, a grade, a limit and a price.

Invariants (docs/credit.md gives the formulas with their reasons):
    * score = 0.25 on-time + 0.20 in-full + 0.10 (1 - 5 x dispute rate)
      + 0.10 (1 - 5 x credit-note share) + 0.15 min(1, tenure / 24 months)
      + 0.10 (1 - (HHI - 0.2) / 0.8) + 0.10 buyers' paid-on-time share,
      each term clipped to [0, 1]; a missing figure counts at its prior.
    * grade A, B, C, D, E at the score cuts of ``grade_cuts``.
    * band: decline on any high fraud signal, two medium ones, or grade E; review on
      one medium fraud signal, a short history, grade D, or a drift of at least twice
      ``drift_drop``; approve otherwise.
    * limit = advance_rate x expected invoicing over the seller's usual terms from
      tomorrow (seasonal index x level) x quality x drift factor; 0 when declined.
    * claim rate (annual bps) = base + grade spread + buyer lateness spread
      (per day beyond terms, capped) + long-tenor spread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from registry.credit.model import (
    Band,
    Reason,
    SeasonView,
    SellerDecision,
    Severity,
    Signal,
)
from registry.credit.profile import BuyerDiscipline, SellerProfile
from registry.credit.season import expected_volume
from registry.credit.thresholds import Thresholds

GRADES = ("A", "B", "C", "D", "E")
PRIORS = {"on_time": 0.85, "in_full": 0.85, "buyers": 0.9}


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


@dataclass(frozen=True, slots=True)
class ScoreTerms:
    """The weighted terms of the score, for the reasons."""

    on_time: float
    in_full: float
    disputes: float
    credit_notes: float
    tenure: float
    concentration: float
    buyers: float

    def total(self) -> float:
        return (
            0.25 * self.on_time
            + 0.20 * self.in_full
            + 0.10 * self.disputes
            + 0.10 * self.credit_notes
            + 0.15 * self.tenure
            + 0.10 * self.concentration
            + 0.10 * self.buyers
        )


def _or(value: float | None, prior: float) -> float:
    return prior if value is None else value


def buyers_paid_on_time(
    profile: SellerProfile, buyers: Sequence[tuple[BuyerDiscipline, int]]
) -> float | None:
    """The seller's buyers' paid-on-time share, weighted by invoiced amounts."""
    weighted = 0.0
    total = 0
    for discipline, amount in buyers:
        share = discipline.paid_on_time_share.value
        if share is not None:
            weighted += share * amount
            total += amount
    return weighted / total if total else None


def score_terms(profile: SellerProfile, buyers_on_time: float | None) -> ScoreTerms:
    """Each score term in [0, 1] (see the module docstring)."""
    hhi = profile.buyer_concentration.value
    return ScoreTerms(
        on_time=_or(profile.on_time_delivery_rate.value, PRIORS["on_time"]),
        in_full=_or(profile.delivered_in_full_share.value, PRIORS["in_full"]),
        disputes=_clip(1 - 5 * _or(profile.dispute_rate.value, 0.0)),
        credit_notes=_clip(1 - 5 * _or(profile.credit_note_share.value, 0.0)),
        tenure=_clip(_or(profile.tenure_months.value, 0.0) / 24),
        concentration=_clip(1 - (_or(hhi, 1.0) - 0.2) / 0.8),
        buyers=_or(buyers_on_time, PRIORS["buyers"]),
    )


def grade_of(score: float, thresholds: Thresholds) -> str:
    """A to E by the score cuts."""
    for grade, cut in zip(GRADES, thresholds.grade_cuts, strict=False):
        if score >= cut:
            return grade
    return GRADES[-1]


def band_of(
    grade: str,
    signals: Sequence[Signal],
    drift: float,
    profile: SellerProfile,
    thresholds: Thresholds,
) -> tuple[Band, list[Reason]]:
    """The band and the reasons that set it."""
    fraud = [s for s in signals if s.fraud]
    high = [s for s in fraud if s.severity is Severity.HIGH]
    medium = [s for s in fraud if s.severity is Severity.MEDIUM]
    reasons = [Reason(s.code.value, s.reason, s.record_ids) for s in signals]
    if high or len(medium) >= 2 or grade == "E":
        why = (
            "a high fraud signal"
            if high
            else ("two or more medium fraud signals" if len(medium) >= 2 else "grade E")
        )
        return Band.DECLINE, [Reason("band_decline", f"declined: {why}"), *reasons]
    causes = []
    if medium:
        causes.append("a medium fraud signal")
    tenure = profile.tenure_months.value or 0.0
    if (
        tenure < thresholds.min_tenure_months
        or profile.invoice_count < thresholds.min_invoices
    ):
        causes.append(
            f"short history ({tenure:.1f} months, {profile.invoice_count} invoices)"
        )
    if grade == "D":
        causes.append("grade D")
    if drift >= 2 * thresholds.drift_drop:
        causes.append(f"fulfilment fell by {drift:.0%}")
    if causes:
        return Band.REVIEW, [
            Reason("band_review", "review: " + "; ".join(causes)),
            *reasons,
        ]
    return Band.APPROVE, [
        Reason(
            "band_approve",
            "approved automatically: no fraud signal, enough history, grade A-C",
        ),
        *reasons,
    ]


def usual_terms_days(profile_invoices_terms: Sequence[int]) -> int:
    """The seller's median payment terms in days (60 when it has no invoices)."""
    if not profile_invoices_terms:
        return 60
    ordered = sorted(profile_invoices_terms)
    return max(1, ordered[len(ordered) // 2])


def credit_limit(
    season: SeasonView,
    as_of: date,
    terms_days: int,
    score: float,
    drift: float,
    fallback_level: float,
    thresholds: Thresholds,
) -> tuple[int, Reason]:
    """The seller's limit in minor units, with its derivation."""
    level = season.level_minor or fallback_level
    expected = expected_volume(
        season.index, level, as_of + timedelta(days=1), terms_days
    )
    quality = _clip((score - 0.3) / 0.6)
    drift_factor = max(0.3, 1 - 2 * drift) if drift >= thresholds.drift_drop else 1.0
    limit = int(thresholds.advance_rate * expected * quality * drift_factor)
    limit -= limit % 1000
    message = (
        f"limit {limit} = {thresholds.advance_rate:.0%} of expected invoicing over its "
        f"usual {terms_days}-day terms from tomorrow ({round(expected)}, seasonal) x "
        f"quality {quality:.2f}"
    )
    if drift_factor < 1:
        message += (
            f" x drift factor {drift_factor:.2f} (fulfilment fell by {drift:.0%})"
        )
    return limit, Reason("limit", message)


def seller_decision(
    profile: SellerProfile,
    terms: ScoreTerms,
    signals: Sequence[Signal],
    season: SeasonView,
    drift: float,
    terms_days: int,
    as_of: date,
    thresholds: Thresholds,
) -> SellerDecision:
    """Band, grade, score and limit with every reason."""
    score = terms.total()
    grade = grade_of(score, thresholds)
    band, reasons = band_of(grade, signals, drift, profile, thresholds)
    months = max(1.0, min(12.0, _or(profile.tenure_months.value, 1.0)))
    fallback = _or(profile.invoiced_minor.value, 0.0) / months
    limit, limit_reason = credit_limit(
        season, as_of, terms_days, score, drift, fallback, thresholds
    )
    if band is Band.DECLINE:
        limit, limit_reason = 0, Reason("limit", "limit 0: declined")
    grade_reason = Reason(
        "grade",
        f"grade {grade} (score {score:.2f}): on-time {terms.on_time:.0%}, "
        f"in full {terms.in_full:.0%}, disputes term {terms.disputes:.2f}, "
        f"credit notes term {terms.credit_notes:.2f}, tenure term {terms.tenure:.2f}, "
        f"concentration term {terms.concentration:.2f}, buyers paid on time "
        f"{terms.buyers:.0%}",
        profile.on_time_delivery_rate.record_ids[-20:],
    )
    season_reason = Reason("season", season.explanation)
    return SellerDecision(
        band, grade, score, limit, (*reasons, grade_reason, season_reason, limit_reason)
    )


def claim_rate_bps(
    grade: str, buyer: BuyerDiscipline, tenor_days: int, thresholds: Thresholds
) -> tuple[int, Reason]:
    """The annual discount rate of a claim and how it was built."""
    grade_bps = thresholds.grade_spread_bps[GRADES.index(grade)]
    late = buyer.days_beyond_terms.value or 0.0
    buyer_bps = min(
        thresholds.buyer_late_cap_bps, round(late * thresholds.buyer_late_bps_per_day)
    )
    tenor_bps = (
        thresholds.long_tenor_bps if tenor_days > thresholds.long_tenor_days else 0
    )
    rate = thresholds.base_rate_bps + grade_bps + buyer_bps + tenor_bps
    return rate, Reason(
        "discount_rate",
        f"{rate} bps a year = base {thresholds.base_rate_bps} + grade {grade} "
        f"{grade_bps} + buyer pays {late:.1f} days late on average {buyer_bps} + "
        f"tenor {tenor_days} days {tenor_bps}",
        buyer.days_beyond_terms.record_ids[-20:],
    )
