"""What the credit engine answers: figures, signals, decisions, each with reasons.

Invariants:
    * Every figure, signal and reason names the record ids (and, for graph and
      identity signals, the party ids) it was computed from, so a reader can open
      the very records behind a number.
    * A :class:`Signal` is either a fraud signal (``fraud`` True; severity medium or
      high) or a warning about the seller's own trend (``fraud`` False), such as a
      drift in fulfilment. Only fraud signals count as fraud flags.
    * Money is integer minor units; rates are annual basis points (integers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Figure:
    """One profile number with how it was computed and from which records."""

    name: str
    value: float | None
    explanation: str
    record_ids: tuple[str, ...] = ()
    count: int = 0
    """How many items a rate averages over (0 for figures that are not rates)."""


class Severity(StrEnum):
    WARNING = "warning"
    MEDIUM = "medium"
    HIGH = "high"


class SignalCode(StrEnum):
    CIRCULAR_TRADE = "circular_trade"
    RECIPROCAL_FLOW = "reciprocal_flow"
    SHARED_IDENTIFIER = "shared_identifier"
    INVOICE_WITHOUT_DELIVERY = "invoice_without_delivery"
    INVOICE_EXCEEDS_ORDER = "invoice_exceeds_order"
    DELIVERY_AFTER_INVOICE = "delivery_after_invoice"
    ROUND_AMOUNTS = "round_amounts"
    VELOCITY_SPIKE = "velocity_spike"
    COUNTERPARTY_BURST = "counterparty_burst"
    FULFILMENT_DRIFT = "fulfilment_drift"


@dataclass(frozen=True, slots=True)
class Signal:
    """A reason for suspicion (or, when not ``fraud``, for caution)."""

    code: SignalCode
    severity: Severity
    reason: str
    record_ids: tuple[str, ...] = ()
    party_ids: tuple[str, ...] = ()
    fraud: bool = True


class Band(StrEnum):
    APPROVE = "approve"
    REVIEW = "review"
    DECLINE = "decline"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a decision came out as it did: a code, a sentence, the records behind it."""

    code: str
    message: str
    record_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SeasonView:
    """The seller's seasonal expectation for the month of ``as_of``.

    ``index`` holds twelve monthly factors (January first) averaging 1.0;
    ``own_weight`` is how much of it comes from the seller's own history (the rest
    from its industry's pattern); ``volatility`` is the coefficient of variation of
    its deseasonalised monthly volume (how much a normal month strays).
    """

    index: tuple[float, ...]
    own_weight: float
    level_minor: int
    expected_minor: int
    recent_minor: int
    volatility: float
    explanation: str


@dataclass(frozen=True, slots=True)
class SellerDecision:
    """A seller's band, grade and credit limit, with the reasons."""

    band: Band
    grade: str
    score: float
    limit_minor: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class ClaimDecision:
    """The price and band of one invoice offered for financing.

    ``discount_rate_bps`` is the annual discount rate in basis points that the
    price of the claim follows (DESIGN.md: daily interest over the days to
    maturity); ``limit_minor`` and ``outstanding_minor`` are the seller's.
    """

    invoice_id: str
    seller: str
    buyer: str
    band: Band
    grade: str
    discount_rate_bps: int
    amount_minor: int
    limit_minor: int
    outstanding_minor: int
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
