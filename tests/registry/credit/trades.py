"""Hand-made trade histories for the credit engine's tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from registry.credit.facts import (
    Delivery,
    Dispute,
    InvoiceFact,
    Order,
    PartyFacts,
    Payment,
    TradeFacts,
)


class Trades:
    """Builds :class:`TradeFacts` one trade at a time, with readable ids."""

    def __init__(self) -> None:
        self.facts = TradeFacts()
        self.count = 0

    def _id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.count}"

    def party(
        self, party: str, industry: str | None = None, **identifiers: str
    ) -> None:
        self.facts.parties[party] = PartyFacts(
            party, industry, tuple(identifiers.items())
        )

    def trade(
        self,
        seller: str,
        buyer: str,
        day: date,
        amount: int = 123_456,
        *,
        deliver_after: int = 5,
        delivered_share: float = 1.0,
        delivery: bool = True,
        invoice_after_delivery: int = 1,
        invoiced_share: float = 1.0,
        terms: int = 30,
        paid_late: int | None = 0,
    ) -> InvoiceFact:
        """Order on ``day``, deliver, invoice, and (unless None) pay."""
        order = Order(self._id("PO"), seller, buyer, day, amount, 100.0)
        self.facts.orders.append(order)
        delivered_on = day + timedelta(days=deliver_after)
        delivery_ids: tuple[str, ...] = ()
        if delivery:
            note = Delivery(
                self._id("DN"),
                seller,
                buyer,
                delivered_on,
                order.id,
                100.0 * delivered_share,
            )
            self.facts.deliveries.append(note)
            delivery_ids = (note.id,)
        issued = delivered_on + timedelta(days=invoice_after_delivery)
        invoice = InvoiceFact(
            self._id("INV"),
            seller,
            buyer,
            issued,
            issued + timedelta(days=terms),
            round(amount * invoiced_share),
            (order.id,),
            delivery_ids,
        )
        self.facts.invoices.append(invoice)
        if paid_late is not None:
            self.pay(invoice, invoice.due_on + timedelta(days=paid_late))
        return invoice

    def pay(self, invoice: InvoiceFact, day: date) -> None:
        self.facts.payments.append(
            Payment(self._id("PAY"), invoice.id, day, invoice.amount_minor)
        )

    def dispute(self, invoice: InvoiceFact, day: date) -> None:
        self.facts.disputes.append(Dispute(self._id("DSP"), invoice.id, day))

    def history(
        self,
        seller: str,
        buyers: Sequence[str],
        start: date,
        end: date,
        *,
        per_month: int = 6,
        amount: int = 123_456,
        season: Sequence[float] = (1.0,) * 12,
        **options: object,
    ) -> list[InvoiceFact]:
        """Steady trade: ``per_month`` x the month's season factor, spread evenly,
        amounts varying a little so months are not identical."""
        made = []
        day = date(start.year, start.month, 1)
        n = 0
        while day <= end:
            count = max(0, round(per_month * season[day.month - 1]))
            for i in range(count):
                when = day + timedelta(days=(i * 28) // max(count, 1))
                if start <= when <= end:
                    n += 1
                    vary = 1 + ((n * 7919) % 13 - 6) / 40
                    buyer = buyers[n % len(buyers)]
                    made.append(
                        self.trade(seller, buyer, when, round(amount * vary), **options)  # type: ignore[arg-type]
                    )
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return made
