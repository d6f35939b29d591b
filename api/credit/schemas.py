"""Request and response bodies of the credit routes.

Party ids inside figures and signals are normalised tax ids (the credit engine's
key for a legal entity); record ids are document ids.
"""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from registry.credit.model import ClaimDecision, Figure, Reason, SeasonView, Signal
from registry.credit.profile import BuyerDiscipline
from registry.credit.scoring import SellerAssessment


class FigureOut(BaseModel):
    name: str
    value: float | None
    explanation: str
    record_ids: list[str]

    @classmethod
    def of(cls, figure: Figure) -> FigureOut:
        return cls(
            name=figure.name,
            value=figure.value,
            explanation=figure.explanation,
            record_ids=list(figure.record_ids),
        )


class ReasonOut(BaseModel):
    code: str
    message: str
    record_ids: list[str]

    @classmethod
    def of(cls, reason: Reason) -> ReasonOut:
        return cls(
            code=reason.code, message=reason.message, record_ids=list(reason.record_ids)
        )


class SignalOut(BaseModel):
    code: str
    severity: str
    fraud: bool
    reason: str
    record_ids: list[str]
    party_ids: list[str]

    @classmethod
    def of(cls, signal: Signal) -> SignalOut:
        return cls(
            code=signal.code.value,
            severity=signal.severity.value,
            fraud=signal.fraud,
            reason=signal.reason,
            record_ids=list(signal.record_ids),
            party_ids=list(signal.party_ids),
        )


class SeasonOut(BaseModel):
    index: list[float] = Field(description="Twelve monthly factors, January first")
    own_weight: float
    level_minor: int
    expected_minor: int
    recent_minor: int
    volatility: float
    explanation: str

    @classmethod
    def of(cls, season: SeasonView) -> SeasonOut:
        return cls(
            index=[round(f, 4) for f in season.index],
            own_weight=season.own_weight,
            level_minor=season.level_minor,
            expected_minor=season.expected_minor,
            recent_minor=season.recent_minor,
            volatility=season.volatility,
            explanation=season.explanation,
        )


class BuyerOut(BaseModel):
    buyer_tax_id: str
    days_beyond_terms: FigureOut
    paid_on_time_share: FigureOut

    @classmethod
    def of(cls, buyer: BuyerDiscipline) -> BuyerOut:
        return cls(
            buyer_tax_id=buyer.buyer,
            days_beyond_terms=FigureOut.of(buyer.days_beyond_terms),
            paid_on_time_share=FigureOut.of(buyer.paid_on_time_share),
        )


class DecisionOut(BaseModel):
    band: str = Field(description="approve, review or decline")
    grade: str
    score: float
    limit_minor: int
    reasons: list[ReasonOut]


class SellerCredit(BaseModel):
    """A seller's profile, signals and decision, as of one day."""

    party_id: uuid.UUID
    tax_id: str
    as_of: date
    profile: list[FigureOut]
    buyers: list[BuyerOut]
    season: SeasonOut
    signals: list[SignalOut]
    decision: DecisionOut

    @classmethod
    def of(cls, party_id: uuid.UUID, found: SellerAssessment) -> SellerCredit:
        decision = found.decision
        return cls(
            party_id=party_id,
            tax_id=found.seller,
            as_of=found.as_of,
            profile=[FigureOut.of(f) for f in found.profile.figures()],
            buyers=[BuyerOut.of(b) for b in found.buyers],
            season=SeasonOut.of(found.season),
            signals=[SignalOut.of(s) for s in found.signals],
            decision=DecisionOut(
                band=decision.band.value,
                grade=decision.grade,
                score=round(decision.score, 4),
                limit_minor=decision.limit_minor,
                reasons=[ReasonOut.of(r) for r in decision.reasons],
            ),
        )


class ClaimCredit(BaseModel):
    """An invoice's grade, band and discount rate for funders."""

    document_id: uuid.UUID
    as_of: date
    seller_tax_id: str
    buyer_tax_id: str
    band: str
    grade: str
    discount_rate_bps: int = Field(description="Annual discount rate, basis points")
    amount_minor: int
    limit_minor: int
    outstanding_minor: int
    reasons: list[ReasonOut]

    @classmethod
    def of(cls, decision: ClaimDecision, as_of: date) -> ClaimCredit:
        return cls(
            document_id=uuid.UUID(decision.invoice_id),
            as_of=as_of,
            seller_tax_id=decision.seller,
            buyer_tax_id=decision.buyer,
            band=decision.band.value,
            grade=decision.grade,
            discount_rate_bps=decision.discount_rate_bps,
            amount_minor=decision.amount_minor,
            limit_minor=decision.limit_minor,
            outstanding_minor=decision.outstanding_minor,
            reasons=[ReasonOut.of(r) for r in decision.reasons],
        )


class PartyAttributesIn(BaseModel):
    """A party's industry and identity attributes; replaces what was stored."""

    model_config = ConfigDict(extra="forbid")

    industry: str | None = Field(default=None, max_length=64)
    bank_accounts: list[str] = Field(default_factory=list, max_length=20)
    addresses: list[str] = Field(default_factory=list, max_length=20)
    directors: list[str] = Field(default_factory=list, max_length=20)


class PartyAttributesOut(BaseModel):
    """What is stored: the industry, and how many identifiers of each kind (their
    values are kept only as keyed hashes)."""

    party_id: uuid.UUID
    industry: str | None
    identifiers: dict[str, int]
