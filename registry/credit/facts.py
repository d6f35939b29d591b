"""Trade facts: the plain, typed input of the credit engine, and their index.

Invariants:
    * Facts are what the registry's records say happened: orders, deliveries (with
      the date goods arrived and the quantity), invoices (issue and due dates,
      amount), credit notes, payments (with the date paid), disputes, and each
      party's identity attributes. No fact carries a score or a label.
    * A party is identified by one string for the legal entity (the service uses the
      normalised tax id), so a company that both sells and buys is one node.
    * Money is an integer number of minor units. Quantities are floats: they only
      enter ratios (delivered / ordered), never money.
    * Every fact has an ``id`` unique across the facts; explanations cite these ids.
    * :class:`Ledger` sees only facts dated on or before its ``as_of`` date, so a
      portfolio can be scored as it stood on any past day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Order:
    """A buyer's purchase order; ``deliver_by`` is the promised delivery date."""

    id: str
    seller: str
    buyer: str
    issued_on: date
    amount_minor: int
    quantity: float
    deliver_by: date | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """Goods received by the buyer against an order (``order_id`` None: unknown)."""

    id: str
    seller: str
    buyer: str
    delivered_on: date
    order_id: str | None
    quantity: float


@dataclass(frozen=True, slots=True)
class InvoiceFact:
    """A seller's invoice; references are ids of orders and deliveries."""

    id: str
    seller: str
    buyer: str
    issued_on: date
    due_on: date
    amount_minor: int
    order_ids: tuple[str, ...] = ()
    delivery_ids: tuple[str, ...] = ()
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class CreditNoteFact:
    """A reduction of an invoice (a return, a price correction)."""

    id: str
    seller: str
    buyer: str
    issued_on: date
    invoice_id: str | None
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Payment:
    """Money the buyer paid against an invoice, on ``paid_on``."""

    id: str
    invoice_id: str
    paid_on: date
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Dispute:
    """A buyer contested an invoice on ``opened_on``."""

    id: str
    invoice_id: str
    opened_on: date


IDENTIFIER_KINDS = ("tax_id", "bank_account", "address", "director")


@dataclass(frozen=True, slots=True)
class PartyFacts:
    """A legal entity: its industry (if known) and identity attributes.

    ``identifiers`` holds ``(kind, value)`` pairs, ``kind`` one of
    :data:`IDENTIFIER_KINDS`; values are compared after :func:`normalise_identifier`.
    """

    id: str
    industry: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class TradeFacts:
    """Everything the engine reads, as plain lists."""

    parties: dict[str, PartyFacts] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    invoices: list[InvoiceFact] = field(default_factory=list)
    credit_notes: list[CreditNoteFact] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)

    def extend(self, other: TradeFacts) -> None:
        """Add ``other``'s facts to these (parties by id, the rest appended)."""
        self.parties.update(other.parties)
        self.orders += other.orders
        self.deliveries += other.deliveries
        self.invoices += other.invoices
        self.credit_notes += other.credit_notes
        self.payments += other.payments
        self.disputes += other.disputes


def normalise_identifier(value: str) -> str:
    """Upper case, letters and digits only: ``"de89 3704-0044"`` is ``DE8937040044``."""
    return "".join(ch for ch in value.upper() if ch.isalnum())


@dataclass(slots=True)
class SellerBook:
    """One seller's records up to the ledger's date, each list oldest first."""

    orders: list[Order] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    invoices: list[InvoiceFact] = field(default_factory=list)
    credit_notes: list[CreditNoteFact] = field(default_factory=list)


class Ledger:
    """Facts up to ``as_of``, indexed by seller, buyer and id."""

    def __init__(self, facts: TradeFacts, as_of: date) -> None:
        self.as_of = as_of
        self.parties = facts.parties
        self.books: dict[str, SellerBook] = defaultdict(SellerBook)
        self.orders = {o.id: o for o in facts.orders if o.issued_on <= as_of}
        self.deliveries = {d.id: d for d in facts.deliveries if d.delivered_on <= as_of}
        self.invoices = {i.id: i for i in facts.invoices if i.issued_on <= as_of}
        self.deliveries_by_order: dict[str, list[Delivery]] = defaultdict(list)
        self.invoices_by_buyer: dict[str, list[InvoiceFact]] = defaultdict(list)
        self.payments_by_invoice: dict[str, list[Payment]] = defaultdict(list)
        self.disputes_by_invoice: dict[str, list[Dispute]] = defaultdict(list)
        self._paid_on: dict[str, date] = {}
        self._index(facts)
        self._settle()

    def _index(self, facts: TradeFacts) -> None:
        for order in sorted(self.orders.values(), key=_order_day):
            self.books[order.seller].orders.append(order)
        for delivery in sorted(self.deliveries.values(), key=_delivery_day):
            self.books[delivery.seller].deliveries.append(delivery)
            if delivery.order_id is not None:
                self.deliveries_by_order[delivery.order_id].append(delivery)
        for invoice in sorted(self.invoices.values(), key=_invoice_day):
            self.books[invoice.seller].invoices.append(invoice)
            self.invoices_by_buyer[invoice.buyer].append(invoice)
        notes = (c for c in facts.credit_notes if c.issued_on <= self.as_of)
        for note in sorted(notes, key=lambda c: (c.issued_on, c.id)):
            self.books[note.seller].credit_notes.append(note)
        for payment in facts.payments:
            if payment.paid_on <= self.as_of:
                self.payments_by_invoice[payment.invoice_id].append(payment)
        for dispute in facts.disputes:
            if dispute.opened_on <= self.as_of:
                self.disputes_by_invoice[dispute.invoice_id].append(dispute)

    def sellers(self) -> list[str]:
        """Every party that issued at least one invoice, sorted."""
        return sorted(s for s, book in self.books.items() if book.invoices)

    def book(self, seller: str) -> SellerBook:
        """The seller's records (empty when it has none)."""
        return self.books.get(seller) or SellerBook()

    def paid_on(self, invoice_id: str) -> date | None:
        """The day an invoice was paid in full (None while any part is unpaid)."""
        return self._paid_on.get(invoice_id)

    def _settle(self) -> None:
        for invoice_id, payments in self.payments_by_invoice.items():
            invoice = self.invoices.get(invoice_id)
            if invoice is None:
                continue
            if sum(p.amount_minor for p in payments) >= invoice.amount_minor:
                self._paid_on[invoice_id] = max(p.paid_on for p in payments)


def _order_day(order: Order) -> tuple[date, str]:
    return order.issued_on, order.id


def _delivery_day(delivery: Delivery) -> tuple[date, str]:
    return delivery.delivered_on, delivery.id


def _invoice_day(invoice: InvoiceFact) -> tuple[date, str]:
    return invoice.issued_on, invoice.id


def ids(
    facts: Iterable[Order | Delivery | InvoiceFact | CreditNoteFact],
) -> tuple[str, ...]:
    """The ids of ``facts``, in their order."""
    return tuple(f.id for f in facts)
