"""Seller profiles and buyer payment discipline, each figure citing its records.

Invariants:
    * Figures cover the ``profile_days`` (365) before the ledger's ``as_of`` date,
      or the seller's whole history when it is younger.
    * An order is due for delivery on its ``deliver_by`` date, or
      ``default_lead_days`` after it was issued when the order states none; a
      delivery is on time when it arrives on or before that day.
    * An order is delivered in full when its deliveries' quantities sum to at least
      ``in_full_tolerance`` of the ordered quantity; only orders already due that
      received goods count (an order with nothing delivered counts as late).
    * Buyer concentration is the Herfindahl-Hirschman index of invoiced amounts by
      buyer, between 1/n (n equal buyers) and 1 (a single buyer).
    * An invoice is paid on time when paid in full within
      ``paid_on_time_grace_days`` of its due date; days beyond terms of an unpaid
      invoice past due keep counting up to ``as_of``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from registry.credit.facts import Delivery, InvoiceFact, Ledger, Order, SellerBook
from registry.credit.model import Figure
from registry.credit.thresholds import Thresholds


@dataclass(frozen=True, slots=True)
class SellerProfile:
    """A seller's trade record in figures (see the module docstring)."""

    seller: str
    order_frequency: Figure
    on_time_delivery_rate: Figure
    delivered_in_full_share: Figure
    dispute_rate: Figure
    credit_note_share: Figure
    tenure_months: Figure
    buyer_concentration: Figure
    invoiced_minor: Figure
    invoice_count: int
    first_on: date | None

    def figures(self) -> tuple[Figure, ...]:
        return (
            self.order_frequency,
            self.on_time_delivery_rate,
            self.delivered_in_full_share,
            self.dispute_rate,
            self.credit_note_share,
            self.tenure_months,
            self.buyer_concentration,
            self.invoiced_minor,
        )


@dataclass(frozen=True, slots=True)
class BuyerDiscipline:
    """How a buyer pays: mean days beyond terms and the share paid on time."""

    buyer: str
    days_beyond_terms: Figure
    paid_on_time_share: Figure
    due_count: int


def due_date(order: Order, thresholds: Thresholds) -> date:
    """The day an order's goods are due (its own date, else the default lead time)."""
    if order.deliver_by is not None:
        return order.deliver_by
    return order.issued_on + timedelta(days=thresholds.default_lead_days)


def first_day(book: SellerBook) -> date | None:
    """The seller's first recorded trade (order or invoice)."""
    days = [b[0].issued_on for b in (book.orders, book.invoices) if b]
    return min(days) if days else None


def seller_profile(
    ledger: Ledger, seller: str, fulfilment: FulfilmentLog, thresholds: Thresholds
) -> SellerProfile:
    """Compute a seller's profile as of ``ledger.as_of``.

    Args:
        ledger: the indexed facts.
        seller: the seller's party id.
        fulfilment: the seller's judged deliveries and orders.
        thresholds: the engine's thresholds.

    Returns:
        The profile; a seller without records gets empty figures (value None).
    """
    book = ledger.book(seller)
    as_of = ledger.as_of
    start = as_of - timedelta(days=thresholds.profile_days)
    first_on = first_day(book)
    invoices = [i for i in book.invoices if i.issued_on > start]
    orders = [o for o in book.orders if o.issued_on > start]
    window_days = (
        min(thresholds.profile_days, (as_of - first_on).days + 1) if first_on else 0
    )

    return SellerProfile(
        seller=seller,
        order_frequency=_order_frequency(orders, window_days),
        on_time_delivery_rate=fulfilment.on_time_rate(start, as_of),
        delivered_in_full_share=fulfilment.in_full_share(start, as_of),
        dispute_rate=_dispute_rate(ledger, invoices),
        credit_note_share=_credit_note_share(book, invoices, start),
        tenure_months=_tenure(book, first_on, as_of),
        buyer_concentration=_concentration(invoices),
        invoiced_minor=Figure(
            "invoiced_minor",
            float(sum(i.amount_minor for i in invoices)),
            f"sum of {len(invoices)} invoices issued in the last "
            f"{thresholds.profile_days} days",
            tuple(i.id for i in invoices),
        ),
        invoice_count=len(invoices),
        first_on=first_on,
    )


def _order_frequency(orders: list[Order], window_days: int) -> Figure:
    if window_days <= 0:
        return Figure("order_frequency", None, "no orders yet")
    months = max(window_days / 30.44, 1.0)
    return Figure(
        "order_frequency",
        len(orders) / months,
        f"{len(orders)} orders over {months:.1f} months (orders per month)",
        tuple(o.id for o in orders),
    )


_Dated = TypeVar("_Dated", Order, Delivery)


def _since(records: list[_Dated], oldest: date) -> list[_Dated]:
    """The tail of a date-ordered list dated after ``oldest``."""
    first = len(records)
    while first and _day(records[first - 1]) > oldest:
        first -= 1
    return records[first:]


def _day(record: Order | Delivery) -> date:
    return record.issued_on if isinstance(record, Order) else record.delivered_on


class FulfilmentLog:
    """A seller's deliveries and orders judged once, then counted per window.

    On time: each delivery against a known order is on time or late, dated by its
    delivery; an order past its due date with nothing delivered yet is late, dated
    by its due date. In full: each order that received goods is in full or short,
    dated by its due date (an order complete before it is due counts at once, dated
    by its last delivery; a partial one waits for its due date). Windows are
    (start, end] on those dates; only the
    ``horizon_days`` before ``as_of`` are judged (the oldest window anyone asks for).
    """

    def __init__(
        self,
        ledger: Ledger,
        book: SellerBook,
        thresholds: Thresholds,
        horizon_days: int = 460,
    ) -> None:
        grace = timedelta(days=thresholds.on_time_grace_days)
        lead = timedelta(days=thresholds.default_lead_days)
        as_of = ledger.as_of
        oldest = as_of - timedelta(days=horizon_days)
        orders = ledger.orders
        punctual: list[tuple[date, bool, str]] = []
        judged: list[tuple[date, bool, tuple[str, ...]]] = []
        for delivery in _since(book.deliveries, oldest):
            order = orders.get(delivery.order_id or "")
            if order is not None:
                due = (order.deliver_by or order.issued_on + lead) + grace
                on_time = delivery.delivered_on <= due
                punctual.append((delivery.delivered_on, on_time, delivery.id))
        tolerance = thresholds.in_full_tolerance
        by_order = ledger.deliveries_by_order
        for order in _since(book.orders, oldest):
            due = order.deliver_by or order.issued_on + lead
            deliveries = by_order.get(order.id)
            if not deliveries:
                if due <= as_of:
                    punctual.append((due, False, order.id))
                continue
            delivered = sum(d.quantity for d in deliveries)
            full = delivered >= tolerance * order.quantity
            if due > as_of and not full:
                continue  # more may still come before it is due
            day = due if due <= as_of else deliveries[-1].delivered_on
            judged.append((day, full, (order.id, *(d.id for d in deliveries))))
        punctual.sort()
        judged.sort(key=lambda item: item[0])
        self.delivered_on = [day for day, _, _ in punctual]
        self.on_time = [on_time for _, on_time, _ in punctual]
        self.delivery_ids = [cited for _, _, cited in punctual]
        self.due_on = [due for due, _, _ in judged]
        self.in_full = [full for _, full, _ in judged]
        self.order_ids = [cited for _, _, cited in judged]

    def on_time_rate(self, start: date, end: date) -> Figure:
        """Share of deliveries in (start, end] that arrived by their due date."""
        low = bisect_right(self.delivered_on, start)
        high = bisect_right(self.delivered_on, end)
        total = high - low
        if total == 0:
            return Figure("on_time_delivery_rate", None, "no deliveries against orders")
        on_time = sum(self.on_time[low:high])
        return Figure(
            "on_time_delivery_rate",
            on_time / total,
            f"{on_time} of {total} deliveries (and orders past due with nothing "
            "delivered) arrived by their order's due date",
            tuple(self.delivery_ids[low:high]),
            total,
        )

    def in_full_share(self, start: date, end: date) -> Figure:
        """Share of orders due in (start, end] that were delivered in full."""
        low = bisect_right(self.due_on, start)
        high = bisect_right(self.due_on, end)
        counted = high - low
        if counted == 0:
            return Figure("delivered_in_full_share", None, "no orders due yet")
        full = sum(self.in_full[low:high])
        return Figure(
            "delivered_in_full_share",
            full / counted,
            f"{full} of {counted} orders due that received goods were delivered "
            "in full",
            tuple(i for cited in self.order_ids[low:high] for i in cited),
            counted,
        )


def _dispute_rate(ledger: Ledger, invoices: list[InvoiceFact]) -> Figure:
    disputed = [i.id for i in invoices if i.id in ledger.disputes_by_invoice]
    cited = [d.id for i in disputed for d in ledger.disputes_by_invoice[i]]
    if not invoices:
        return Figure("dispute_rate", None, "no invoices")
    return Figure(
        "dispute_rate",
        len(disputed) / len(invoices),
        f"{len(disputed)} of {len(invoices)} invoices were disputed",
        tuple([i.id for i in invoices] + cited),
    )


def _credit_note_share(
    book: SellerBook, invoices: list[InvoiceFact], start: date
) -> Figure:
    notes = [c for c in book.credit_notes if c.issued_on > start]
    invoiced = sum(i.amount_minor for i in invoices)
    if invoiced == 0:
        return Figure("credit_note_share", None, "no invoices")
    credited = sum(c.amount_minor for c in notes)
    return Figure(
        "credit_note_share",
        credited / invoiced,
        f"{len(notes)} credit notes and returns worth {credited} of {invoiced} "
        "minor units invoiced",
        tuple([c.id for c in notes] + [i.id for i in invoices]),
    )


def _tenure(book: SellerBook, first_on: date | None, as_of: date) -> Figure:
    if first_on is None:
        return Figure("tenure_months", 0.0, "no records")
    candidates: list[Order | InvoiceFact] = [*book.orders[:1], *book.invoices[:1]]
    first = min(candidates, key=lambda record: record.issued_on)
    return Figure(
        "tenure_months",
        (as_of - first_on).days / 30.44,
        f"first record issued on {first_on.isoformat()}",
        (first.id,),
    )


def _concentration(invoices: list[InvoiceFact]) -> Figure:
    by_buyer: dict[str, int] = defaultdict(int)
    for invoice in invoices:
        by_buyer[invoice.buyer] += invoice.amount_minor
    total = sum(by_buyer.values())
    if total == 0:
        return Figure("buyer_concentration", None, "no invoices")
    hhi = sum((amount / total) ** 2 for amount in by_buyer.values())
    top = max(by_buyer.values()) / total
    return Figure(
        "buyer_concentration",
        hhi,
        f"Herfindahl index over {len(by_buyer)} buyers; the largest takes "
        f"{top:.0%} of invoiced amounts",
        tuple(i.id for i in invoices),
    )


def buyer_discipline(
    ledger: Ledger, buyer: str, thresholds: Thresholds
) -> BuyerDiscipline:
    """How ``buyer`` paid the invoices that fell due in the profile window."""
    start = ledger.as_of - timedelta(days=thresholds.profile_days)
    grace = timedelta(days=thresholds.paid_on_time_grace_days)
    late_days = on_time = 0
    cited: list[str] = []
    for invoice in ledger.invoices_by_buyer.get(buyer, ()):
        if not start < invoice.due_on <= ledger.as_of:
            continue
        cited.append(invoice.id)
        paid_on = ledger.paid_on(invoice.id)
        settled = paid_on if paid_on is not None else ledger.as_of
        late_days += max(0, (settled - invoice.due_on).days)
        if paid_on is not None and paid_on <= invoice.due_on + grace:
            on_time += 1
    count = len(cited)
    if count == 0:
        empty = "no invoices to this buyer fell due yet"
        return BuyerDiscipline(
            buyer,
            Figure("days_beyond_terms", None, empty),
            Figure("paid_on_time_share", None, empty),
            0,
        )
    return BuyerDiscipline(
        buyer,
        Figure(
            "days_beyond_terms",
            late_days / count,
            f"mean days paid after the due date over {count} invoices due",
            tuple(cited),
        ),
        Figure(
            "paid_on_time_share",
            on_time / count,
            f"{on_time} of {count} invoices due were paid within "
            f"{thresholds.paid_on_time_grace_days} days of the due date",
            tuple(cited),
        ),
        count,
    )
