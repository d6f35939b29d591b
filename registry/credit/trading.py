"""The trade simulator behind the generated economy: sellers' plans, and a builder
that turns each trade into facts and raw records.

Invariants:
    * One trade is an order, usually a delivery (on time with the plan's
      probability, within 21 days; else 23-44 days), an invoice issued on or just
      after delivery for what was delivered, and a payment by the buyer's habit.
    * Every random draw comes from the builder's seeded generator, in a fixed
      order, so the same seed gives the same facts.
    * Raw records are kept only when asked for (they cost memory), as the JSON a
      seller would send; numbers are the facts' ids.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from registry.credit.facts import (
    CreditNoteFact,
    Delivery,
    Dispute,
    InvoiceFact,
    Order,
    PartyFacts,
    Payment,
    TradeFacts,
)

SHAPES: dict[str, tuple[float, ...]] = {
    "harvest": (0.4, 0.4, 0.5, 0.6, 0.8, 1.0, 1.4, 2.4, 2.8, 2.0, 0.6, 0.4),
    "holiday_retail": (0.7, 0.6, 0.7, 0.8, 0.8, 0.8, 0.8, 0.9, 1.1, 1.5, 2.6, 2.4),
    "manufacturing": (1.0,) * 12,
    "services": (1.0,) * 12,
}
SEASONAL = ("harvest", "holiday_retail")


@dataclass(slots=True)
class SellerPlan:
    id: str
    industry: str
    start: date
    rate: float
    price: int
    buyers: list[str]
    weights: list[float]
    on_time: float
    in_full: float
    terms: int
    shape: tuple[float, ...]
    growth: float
    round_pricing: bool
    stop: date
    drift: bool = False
    spurt: float = 1.0
    fraud: str | None = None
    noise: float = 0.01


class TradeBuilder:
    def __init__(
        self, seed: int, as_of: date, horizon_days: int, keep_records: bool
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
        self.as_of = as_of
        self.horizon_end = as_of + timedelta(days=horizon_days)
        self.facts = TradeFacts()
        self.records: list[tuple[str, dict[str, Any]]] = []
        self.keep_records = keep_records
        self.lateness: dict[str, float] = {}
        self.counter = 0
        self.party_ids: list[str] = []

    # --- parties -----------------------------------------------------------------

    def new_party_ids(self, count: int) -> None:
        numbers = list(range(1, count + 1))
        self.rng.shuffle(numbers)
        self.party_ids = [f"P{n:05d}" for n in numbers]

    def take_party(self) -> str:
        return self.party_ids.pop()

    def add_party(
        self,
        party: str,
        industry: str | None,
        *,
        address: str | None = None,
        director: str | None = None,
        bank: str | None = None,
    ) -> None:
        rng = self.rng
        identifiers = (
            ("tax_id", party),
            ("bank_account", bank or f"DE{rng.randrange(10**19, 10**20)}"),
            (
                "address",
                address or f"{rng.randrange(1, 400)} Street {rng.randrange(10**6)}",
            ),
            ("director", director or f"Director {rng.randrange(10**9)}"),
        )
        self.facts.parties[party] = PartyFacts(party, industry, identifiers)

    # --- trade ----------------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter:07d}"

    def pay(
        self, invoice: InvoiceFact, late_mean: float, *, never: bool = False
    ) -> None:
        if never:
            return
        rng = self.rng
        late = (
            0
            if rng.random() < 0.75
            else round(rng.expovariate(1 / max(late_mean, 0.5)))
        )
        paid_on = invoice.due_on + timedelta(days=late)
        if paid_on <= self.horizon_end:
            self.facts.payments.append(
                Payment(self.next_id("PAY"), invoice.id, paid_on, invoice.amount_minor)
            )

    def trade(
        self,
        seller: SellerPlan,
        buyer: str,
        day: date,
        *,
        on_time: float,
        in_full: float,
        amount_scale: float = 1.0,
        with_delivery: bool = True,
        ghost_delivery: bool = False,
        round_amount: bool = False,
        paid: bool = True,
        noise: float = 0.01,
    ) -> None:
        rng = self.rng
        quantity = max(1, round(rng.lognormvariate(math.log(40), 0.5) * amount_scale))
        price = seller.price
        if round_amount or (seller.round_pricing and rng.random() < 0.6):
            quantity, price = 1, max(1, round(quantity * price / 10_000)) * 10_000
        order_total = quantity * price
        order = Order(
            self.next_id("PO"), seller.id, buyer, day, order_total, float(quantity)
        )
        self._record(order, seller, buyer, quantity, price)
        self.facts.orders.append(order)

        if on_time > rng.random():
            delivered_on = day + timedelta(days=rng.randrange(2, 21))
        else:
            delivered_on = day + timedelta(days=rng.randrange(23, 45))
        delivered = quantity
        if in_full < rng.random() and quantity > 1:
            delivered = max(1, int(quantity * rng.uniform(0.6, 0.93)))
        delivery_ids: tuple[str, ...] = ()
        invoice_day = delivered_on + timedelta(days=rng.randrange(0, 3))
        if with_delivery and not (noise > rng.random()):
            delivery = Delivery(
                self.next_id("DN"),
                seller.id,
                buyer,
                delivered_on,
                order.id,
                float(delivered),
            )
            self.facts.deliveries.append(delivery)
            self._record(delivery, seller, buyer, delivered, price)
            delivery_ids = (delivery.id,)
            if noise / 2 > rng.random():
                invoice_day = delivered_on - timedelta(days=rng.randrange(3, 8))
        elif ghost_delivery:
            delivery_ids = (self.next_id("DN"),)
        if not with_delivery:
            invoice_day = day + timedelta(days=rng.randrange(0, 10))
        amount = delivered * price
        if noise / 2 > rng.random():
            amount = round(amount * 1.1)
        invoice = InvoiceFact(
            self.next_id("INV"),
            seller.id,
            buyer,
            invoice_day,
            invoice_day + timedelta(days=seller.terms),
            amount,
            (order.id,),
            delivery_ids,
        )
        self.facts.invoices.append(invoice)
        self._record(invoice, seller, buyer, delivered, price)
        if rng.random() < 0.01:
            self.facts.disputes.append(
                Dispute(
                    self.next_id("DSP"), invoice.id, invoice_day + timedelta(days=10)
                )
            )
        elif rng.random() < 0.02:
            credit = CreditNoteFact(
                self.next_id("CN"),
                seller.id,
                buyer,
                invoice_day + timedelta(days=rng.randrange(3, 20)),
                invoice.id,
                max(1, amount // rng.randrange(5, 20)),
            )
            self.facts.credit_notes.append(credit)
            self._record(credit, seller, buyer, 1, credit.amount_minor)
        self.pay(invoice, self.lateness.get(buyer, 2.0), never=not paid)

    def _record(
        self,
        fact: Order | Delivery | InvoiceFact | CreditNoteFact,
        seller: SellerPlan,
        buyer: str,
        quantity: int,
        price: int,
    ) -> None:
        if not self.keep_records:
            return
        record: dict[str, Any]
        common: dict[str, Any] = {
            "number": fact.id,
            "seller": {"tax_id": seller.id, "name": f"Seller {seller.id}"},
            "buyer": {"tax_id": buyer, "name": f"Buyer {buyer}"},
        }
        line: dict[str, Any] = {
            "description": "Goods",
            "quantity": str(quantity),
            "unit_price_minor": price,
            "amount_minor": quantity * price,
        }
        if isinstance(fact, Delivery):
            record = {
                "type": "delivery_note",
                "issued_on": fact.delivered_on.isoformat(),
                "order_number": fact.order_id or "",
                "lines": [{"description": "Goods", "quantity": str(quantity)}],
            }
        elif isinstance(fact, Order):
            record = {
                "type": "purchase_order",
                "issued_on": fact.issued_on.isoformat(),
            }
            record |= {
                "currency": "EUR",
                "lines": [line],
                "total_minor": quantity * price,
            }
        elif isinstance(fact, InvoiceFact):
            line = {**line, "amount_minor": fact.amount_minor}
            line["quantity"], line["unit_price_minor"] = "1", fact.amount_minor
            record = {
                "type": "invoice",
                "issued_on": fact.issued_on.isoformat(),
                "due_on": fact.due_on.isoformat(),
                "currency": "EUR",
                "order_numbers": list(fact.order_ids),
                "delivery_note_numbers": list(fact.delivery_ids),
                "lines": [line],
                "total_minor": fact.amount_minor,
            }
        else:
            record = {
                "type": "credit_note",
                "issued_on": fact.issued_on.isoformat(),
                "invoice_number": fact.invoice_id or "",
                "reason": "return",
                "currency": "EUR",
                "lines": [line],
                "total_minor": fact.amount_minor,
            }
        self.records.append((fact.id, common | record))

    def run_seller(
        self, seller: SellerPlan, extra: Callable[[date], None] | None = None
    ) -> None:
        rng = self.rng
        month = date(seller.start.year, seller.start.month, 1)
        while month <= seller.stop:
            days = (next_month(month) - month).days
            years = (month - seller.start).days / 365
            drifting = seller.drift and month >= self.as_of - timedelta(days=100)
            spurt = seller.spurt if month >= self.as_of - timedelta(days=60) else 1.0
            mean = (
                seller.rate
                * seller.shape[month.month - 1]
                * seller.growth**years
                * spurt
            )
            count = max(0, round(rng.gauss(mean, math.sqrt(mean))))
            peak = seller.shape[month.month - 1] > 1.5
            for _ in range(count):
                day = month + timedelta(days=rng.randrange(days))
                if not seller.start <= day <= seller.stop:
                    continue
                buyer = rng.choices(seller.buyers, seller.weights)[0]
                on_time = 0.5 if drifting else seller.on_time - (0.03 if peak else 0.0)
                in_full = 0.75 if drifting else seller.in_full
                self.trade(
                    seller,
                    buyer,
                    day,
                    on_time=on_time,
                    in_full=in_full,
                    noise=seller.noise,
                )
            if extra is not None:
                extra(month)
            month = next_month(month)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def seasonal_shape(rng: random.Random, industry: str) -> tuple[float, ...]:
    base = SHAPES[industry]
    shift = rng.choice((-1, 0, 0, 1)) if industry in SEASONAL else 0
    amplitude = rng.uniform(0.8, 1.3) if industry in SEASONAL else 1.0
    shaped = [1 + (base[(m - shift) % 12] - 1) * amplitude for m in range(12)]
    return tuple(max(0.1, value) for value in shaped)
