"""A small, realistic trade (order, delivery, invoice) for the demo and benchmarks.

The records are raw JSON-ready dicts, exactly as a seller would send them; amounts use
both accepted input forms (decimal strings in major units and integer minor units).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SELLER = {"tax_id": "DE811907980", "name": "Kessler Feinmechanik GmbH"}
BUYER = {"tax_id": "DE129273398", "name": "Nordwerk Automotive AG"}

_LINES = [
    ("Precision shaft 40 mm, hardened", "120", "18.75"),
    ("Bearing housing, cast", "60", "42.10"),
    ("Machining of customer flanges", "8.5", "95.00"),
]


def _priced_lines(
    lines: list[tuple[str, str, str]],
) -> tuple[list[dict[str, Any]], int]:
    out: list[dict[str, Any]] = []
    total_minor = 0
    for description, quantity, unit_price in lines:
        amount = Decimal(quantity) * Decimal(unit_price) * 100
        amount_minor = int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        total_minor += amount_minor
        out.append(
            {
                "description": description,
                "quantity": quantity,
                "unit_price": unit_price,
                "amount_minor": amount_minor,
            }
        )
    return out, total_minor


def purchase_order(
    number: str = "PO-2026-0412", issued_on: date | None = None
) -> dict[str, Any]:
    """The buyer's order for the goods."""
    issued = issued_on or date(2026, 11, 2)
    lines, subtotal = _priced_lines(_LINES)
    tax = subtotal * 19 // 100
    return {
        "type": "purchase_order",
        "number": number,
        "issued_on": issued.isoformat(),
        "seller": SELLER,
        "buyer": BUYER,
        "currency": "EUR",
        "lines": lines,
        "subtotal_minor": subtotal,
        "tax_minor": tax,
        "total_minor": subtotal + tax,
    }


def delivery_note(
    order_root: str | None = None,
    number: str = "DN-2026-0977",
    order_number: str = "PO-2026-0412",
) -> dict[str, Any]:
    """The seller's delivery against the order, linked to it by number and root."""
    note: dict[str, Any] = {
        "type": "delivery_note",
        "number": number,
        "issued_on": "2026-11-16",
        "seller": SELLER,
        "buyer": BUYER,
        "order_number": order_number,
        "lines": [{"description": d, "quantity": q} for d, q, _ in _LINES],
    }
    if order_root is not None:
        note["order_root"] = order_root
    return note


def invoice(
    number: str = "INV-2026-1187",
    issued_on: date | None = None,
    terms_days: int = 60,
) -> dict[str, Any]:
    """The seller's invoice for the delivered goods, payable in ``terms_days``."""
    issued = issued_on or date(2026, 11, 17)
    lines, subtotal = _priced_lines(_LINES)
    tax = subtotal * 19 // 100
    total = subtotal + tax
    return {
        "type": "invoice",
        "number": number,
        "issued_on": issued.isoformat(),
        "due_on": (issued + timedelta(days=terms_days)).isoformat(),
        "seller": SELLER,
        "buyer": BUYER,
        "currency": "EUR",
        "order_numbers": ["PO-2026-0412"],
        "delivery_note_numbers": ["DN-2026-0977"],
        "lines": lines,
        "subtotal": f"{subtotal // 100}.{subtotal % 100:02d}",
        "tax_minor": tax,
        "total": f"{total // 100}.{total % 100:02d}",
    }
