"""Data credit in the service: load trade facts from the database, score, decide.

Profiles are recomputed on read, with caching: an answer is kept per (seller, day)
until the registry changes, and "changes" is read from two primary keys that only
grow (the newest document event: every registration and every status change writes
one; the newest party attribute row). A read therefore costs two index lookups when
nothing changed, and one seller's neighbourhood when something did; the trade
graph (every invoice of the last year) is reloaded only when the version moves.
Decrypted quantities never change once registered, so they are cached by document
id for the life of the process. Services never commit.

Payments: :class:`PaymentSource` is the seam. Until claims record repayments
(issue 4), :class:`TimelinePayments` reads an invoice as paid in full on the day
its status first became ``paid`` (or ``closed``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from api.auth.service import Caller
from api.credit import repository
from api.credit.errors import SellerNotFoundError
from api.credit.repository import DocumentRow
from api.credit.schemas import (
    ClaimCredit,
    PartyAttributesIn,
    PartyAttributesOut,
    SellerCredit,
)
from api.documents.registration import RegistryContext
from api.documents.service import decrypt_record
from api.errors import DocumentNotFoundError, PartyNotFoundError
from api.models import Document, DocumentKind, DocumentStatus, Party, PartyRole
from registry.credit.facts import (
    CreditNoteFact,
    Delivery,
    Dispute,
    InvoiceFact,
    Order,
    PartyFacts,
    Payment,
    TradeFacts,
    normalise_identifier,
)
from registry.credit.model import ClaimDecision
from registry.credit.records import quantity_of
from registry.credit.scoring import Portfolio, SellerAssessment
from registry.credit.season import INDUSTRY_PATTERNS
from registry.credit.signals import TradeGraph, build_trade_graph
from registry.credit.thresholds import DEFAULT, Thresholds
from registry.fingerprints import normalise_tax_id

logger = logging.getLogger(__name__)

IDENTIFIER_TAG = b"receivables.credit.identifier.v1"
PAID = (DocumentStatus.PAID, DocumentStatus.CLOSED)
_CACHE_LIMIT = 200_000
_Version = tuple[int, int]


class PaymentSource(Protocol):
    """Where payments of invoices come from (the claims' repayments, later)."""

    def payments(
        self, session: Session, invoices: Sequence[DocumentRow]
    ) -> list[Payment]: ...


class TimelinePayments:
    """Paid in full on the first day the invoice's status became paid or closed."""

    def payments(
        self, session: Session, invoices: Sequence[DocumentRow]
    ) -> list[Payment]:
        amounts = {row.id: row.total_minor or 0 for row in invoices}
        paid: dict[uuid.UUID, date] = {}
        for document_id, _status, day in repository.first_events(
            session, amounts, PAID
        ):
            paid[document_id] = min(day, paid.get(document_id, day))
        return [
            Payment(f"{document_id}:paid", str(document_id), day, amounts[document_id])
            for document_id, day in paid.items()
        ]


@dataclass
class CreditService:
    """The credit engine with its caches; one per process (``app.state.credit``)."""

    context: RegistryContext
    payment_source: PaymentSource = field(default_factory=TimelinePayments)
    thresholds: Thresholds = DEFAULT
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _quantities: dict[uuid.UUID, float] = field(default_factory=dict)
    _graph: tuple[_Version, date, TradeGraph] | None = None
    _assessed: dict[tuple[str, date], tuple[_Version, Portfolio, SellerAssessment]] = (
        field(default_factory=dict)
    )

    def identifier_key(self, kind: str, value: str) -> bytes:
        """The stored form of an identity attribute: a keyed hash of its value."""
        message = kind.encode() + b"\x00" + normalise_identifier(value).encode()
        key = self.context.fingerprint_key
        return hmac.new(key, IDENTIFIER_TAG + message, hashlib.sha256).digest()

    def assess(
        self, session: Session, seller_tax_id: str, as_of: date
    ) -> tuple[Portfolio, SellerAssessment]:
        """The seller's assessment, from the cache while the registry is unchanged."""
        current = repository.version(session)
        key = (seller_tax_id, as_of)
        with self._lock:
            cached = self._assessed.get(key)
        if cached is not None and cached[0] == current:
            return cached[1], cached[2]
        facts = self._load(session, seller_tax_id)
        portfolio = Portfolio(
            facts,
            as_of,
            self.thresholds,
            industry_indices=INDUSTRY_PATTERNS,
            trade_graph=self._trade_graph(session, current, as_of),
        )
        assessment = portfolio.assess(seller_tax_id)
        with self._lock:
            if len(self._assessed) > 10_000:
                self._assessed.clear()
            self._assessed[key] = (current, portfolio, assessment)
        logger.info(
            "credit.seller_assessed seller=%s band=%s grade=%s",
            seller_tax_id,
            assessment.decision.band,
            assessment.decision.grade,
        )
        return portfolio, assessment

    # --- loading facts -----------------------------------------------------------

    def _trade_graph(
        self, session: Session, current: _Version, as_of: date
    ) -> TradeGraph:
        """The registry's circular trade and reciprocal flows, rebuilt only when
        the registry changed (or the day did)."""
        with self._lock:
            graph = self._graph
        if graph is not None and graph[0] == current and graph[1] == as_of:
            return graph[2]
        since = as_of - timedelta(days=self.thresholds.graph_days)
        invoices = [
            _invoice(row, (), ()) for row in repository.graph_invoices(session, since)
        ]
        built = build_trade_graph(invoices, as_of, self.thresholds)
        with self._lock:
            self._graph = (current, as_of, built)
        logger.info(
            "credit.graph_built invoices=%d edges=%d cycles=%d",
            len(invoices),
            built.edges,
            built.cycles_checked,
        )
        return built

    def _load(self, session: Session, seller_tax_id: str) -> TradeFacts:
        rows = repository.seller_documents(session, seller_tax_id)
        references: dict[uuid.UUID, dict[str, list[str]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for source, target, relation in repository.links(session, (r.id for r in rows)):
            references[source][relation].append(str(target))
        quantities = self._quantities_of(
            session,
            [r.id for r in rows if r.kind in _QUANTIFIED],
        )
        facts = TradeFacts()
        for row in rows:
            _add(facts, row, references[row.id], quantities)

        own = {r.id for r in rows}
        buyers = {r.buyer_tax_id for r in rows if r.kind == DocumentKind.INVOICE}
        others = [
            r
            for r in repository.invoices_to(session, buyers | {seller_tax_id})
            if r.id not in own
        ]
        facts.invoices += [_invoice(row, (), ()) for row in others]
        invoices = [r for r in rows if r.kind == DocumentKind.INVOICE] + others
        facts.payments = self.payment_source.payments(session, invoices)
        facts.disputes = [
            Dispute(f"{document_id}:disputed", str(document_id), day)
            for document_id, _, day in repository.first_events(
                session,
                (r.id for r in rows if r.kind == DocumentKind.INVOICE),
                (DocumentStatus.DISPUTED,),
            )
        ]
        facts.parties = self._parties(session, seller_tax_id)
        return facts

    def _quantities_of(
        self, session: Session, document_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, float]:
        with self._lock:
            missing = [d for d in document_ids if d not in self._quantities]
        found: dict[uuid.UUID, float] = {}
        for document in repository.documents(session, missing):
            record = decrypt_record(self.context, document)
            # NOTE: an erased document's quantity is unknown; an order of 0 and a
            # delivery of infinity make it count as delivered in full rather
            # than punish the seller for an erasure it was entitled to.
            if record is not None:
                found[document.id] = quantity_of(record)
            elif document.kind == DocumentKind.DELIVERY_NOTE:
                found[document.id] = float("inf")
            else:
                found[document.id] = 0.0
        with self._lock:
            if len(self._quantities) > _CACHE_LIMIT:
                self._quantities.clear()
            self._quantities.update(found)
            return {d: self._quantities.get(d, found.get(d, 0.0)) for d in document_ids}

    def _parties(self, session: Session, seller_tax_id: str) -> dict[str, PartyFacts]:
        mine = repository.attributes_of(session, [seller_tax_id])
        keys = [
            key for _, kind, key, _ in mine if key is not None and kind != "industry"
        ]
        sharing = repository.tax_ids_sharing(session, keys) | {seller_tax_id}
        rows = repository.attributes_of(session, sharing)
        industry: dict[str, str] = {}
        identifiers: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for tax_id, kind, key, value in rows:
            party = normalise_tax_id(tax_id)
            if kind == "industry" and value:
                industry[party] = value
            elif key is not None:
                identifiers[party].append((kind, key.hex()))
        return {
            party: PartyFacts(party, industry.get(party), tuple(identifiers[party]))
            for party in sharing | set(industry)
        }


_QUANTIFIED = (DocumentKind.PURCHASE_ORDER, DocumentKind.DELIVERY_NOTE)


def _invoice(
    row: DocumentRow, order_ids: Sequence[str], delivery_ids: Sequence[str]
) -> InvoiceFact:
    return InvoiceFact(
        str(row.id),
        row.seller_tax_id,
        row.buyer_tax_id,
        row.issued_on,
        row.due_on or row.issued_on,
        row.total_minor or 0,
        tuple(order_ids),
        tuple(delivery_ids),
    )


def _add(
    facts: TradeFacts,
    row: DocumentRow,
    references: dict[str, list[str]],
    quantities: dict[uuid.UUID, float],
) -> None:
    document_id = str(row.id)
    seller, buyer = row.seller_tax_id, row.buyer_tax_id
    if row.kind == DocumentKind.INVOICE:
        facts.invoices.append(
            _invoice(row, references.get("order", ()), references.get("delivery", ()))
        )
    elif row.kind == DocumentKind.PURCHASE_ORDER:
        facts.orders.append(
            Order(
                document_id,
                seller,
                buyer,
                row.issued_on,
                row.total_minor or 0,
                quantities.get(row.id, 0.0),
            )
        )
    elif row.kind == DocumentKind.DELIVERY_NOTE:
        orders = references.get("order", [])
        facts.deliveries.append(
            Delivery(
                document_id,
                seller,
                buyer,
                row.issued_on,
                orders[0] if orders else None,
                quantities.get(row.id, 0.0),
            )
        )
    elif row.kind == DocumentKind.CREDIT_NOTE:
        invoices = references.get("invoice", [])
        facts.credit_notes.append(
            CreditNoteFact(
                document_id,
                seller,
                buyer,
                row.issued_on,
                invoices[0] if invoices else None,
                row.total_minor or 0,
            )
        )


def today() -> date:
    """The scoring day: today in UTC."""
    return datetime.now(UTC).date()


# --- reading ---------------------------------------------------------------------


def _visible_seller(session: Session, caller: Caller, party_id: uuid.UUID) -> Party:
    party = session.get(Party, party_id)
    allowed = (
        caller.role in (PartyRole.OPERATOR, PartyRole.FUNDER) or caller.id == party_id
    )
    if (
        party is None
        or party.role != PartyRole.SELLER
        or not allowed
        or not party.tax_id
    ):
        raise SellerNotFoundError(party_id)
    return party


def seller_credit(
    session: Session, credit: CreditService, caller: Caller, party_id: uuid.UUID
) -> SellerCredit:
    """A seller's profile, signals and decision.

    Raises:
        SellerNotFoundError: no such seller, or the caller is neither that seller,
            an operator nor a funder.
    """
    party = _visible_seller(session, caller, party_id)
    _, assessment = credit.assess(
        session, normalise_tax_id(party.tax_id or ""), today()
    )
    return SellerCredit.of(party.id, assessment)


def _visible_invoice(
    session: Session, caller: Caller, document_id: uuid.UUID
) -> Document:
    document = session.get(Document, document_id)
    allowed = document is not None and (
        caller.role in (PartyRole.OPERATOR, PartyRole.FUNDER)
        or caller.id == document.seller_id
    )
    if document is None or document.kind != DocumentKind.INVOICE or not allowed:
        raise DocumentNotFoundError(document_id)
    return document


def decide_claim(
    session: Session, document_id: uuid.UUID, credit: CreditService
) -> ClaimDecision:
    """Band, grade and discount rate of an invoice offered for financing, today.

    The offers code calls this when an offer is created, in its own transaction;
    nothing is written.

    Raises:
        DocumentNotFoundError: no such invoice, the document is not an invoice, or
            it no longer counts (cancelled, or a counterparty's copy of another).
    """
    document = session.get(Document, document_id)
    if document is None or document.kind != DocumentKind.INVOICE:
        raise DocumentNotFoundError(document_id)
    seller = normalise_tax_id(document.seller_tax_id)
    # NOTE: an invoice dated ahead of today is scored as of its own date, so the
    # engine sees it (a ledger ignores what is dated after its day)
    as_of = max(today(), document.issued_on)
    portfolio, assessment = credit.assess(session, seller, as_of)
    outstanding = repository.financed_open(session, document.seller_tax_id)
    if document.status in (DocumentStatus.FINANCED, DocumentStatus.DUE):
        outstanding -= document.total_minor or 0  # this one is not extra exposure
    invoice_id = str(document.id)
    if invoice_id not in portfolio.ledger.invoices:
        raise DocumentNotFoundError(document_id)  # cancelled, or a copy
    decision = portfolio.assess_claim(invoice_id, max(0, outstanding), assessment)
    logger.info(
        "credit.claim_decided document_id=%s band=%s grade=%s rate_bps=%d",
        document_id,
        decision.band,
        decision.grade,
        decision.discount_rate_bps,
    )
    return decision


def claim_credit(
    session: Session, credit: CreditService, caller: Caller, document_id: uuid.UUID
) -> ClaimCredit:
    """An invoice's grade, band and discount rate (funders, operators, its seller).

    Raises:
        DocumentNotFoundError: no such invoice visible to the caller.
    """
    document = _visible_invoice(session, caller, document_id)
    decision = decide_claim(session, document_id, credit)
    return ClaimCredit.of(decision, max(today(), document.issued_on))


# --- changing --------------------------------------------------------------------


def set_attributes(
    session: Session,
    credit: CreditService,
    party_id: uuid.UUID,
    body: PartyAttributesIn,
) -> PartyAttributesOut:
    """Replace a party's industry and identity attributes (operators only).

    Raises:
        PartyNotFoundError: no such party.
    """
    party = session.get(Party, party_id)
    if party is None:
        raise PartyNotFoundError(party_id)
    rows: list[dict[str, object]] = []
    if body.industry:
        rows.append({"kind": "industry", "value": body.industry, "value_key": None})
    given = (
        ("bank_account", body.bank_accounts),
        ("address", body.addresses),
        ("director", body.directors),
    )
    counts: dict[str, int] = {}
    for kind, values in given:
        keys = {
            credit.identifier_key(kind, v) for v in values if normalise_identifier(v)
        }
        rows += [
            {"kind": kind, "value_key": key, "value": None} for key in sorted(keys)
        ]
        counts[kind] = len(keys)
    repository.replace_attributes(session, party.id, rows)
    logger.info("credit.attributes_replaced party_id=%s rows=%d", party.id, len(rows))
    return PartyAttributesOut(
        party_id=party.id, industry=body.industry, identifiers=counts
    )
