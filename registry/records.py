"""Typed trade records: purchase orders, delivery notes, invoices and credit notes.

Invariants (RELIABILITY.md 1-6):
    * Money is an integer number of the currency's minor units plus an upper-case
      ISO 4217 code (``registry.currencies``). Input gives an amount either as a JSON
      integer of minor units (``total_minor``) or as a decimal string of major units
      (``"total": "1234.5"``); both normalise to the same integer. Floats, NaN,
      Infinity, exponent forms, signs, more decimals than the currency has, zero or
      negative amounts, and amounts beyond 2**53 - 1 (the RFC 8785 safe-integer limit,
      far below 2**255) are refused.
    * Quantities are integers or decimal strings, never floats; they normalise to the
      shortest decimal string ("2.50" -> "2.5", 3 -> "3").
    * Dates are ISO 8601 calendar dates ``YYYY-MM-DD``; impossible dates are refused and
      an invoice's ``due_on`` is never before its ``issued_on``.
    * Text may hold any Unicode except control characters (category Cc) and lone
      surrogates; it is kept exactly as sent, never normalised or trimmed.
    * Every problem is a :class:`~registry.errors.RecordError` whose ``field`` is the
      JSON Pointer of the offending input; :func:`parse_record` reports all of them at
      once in a :class:`~registry.errors.RecordValidationError`.
    * :func:`record_to_canonical_dict` is the normalised form that is canonicalised and
      hashed (schema ``version`` 1). Changing its shape changes every content hash and
      document root: add a new schema version rather than editing this one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict

from registry.canonical import NonIntegerNumber, loads_strict
from registry.currencies import minor_unit_exponent
from registry.errors import InvalidAmountError, RecordError, RecordValidationError
from registry.types import bytes32, to_hex

SCHEMA_VERSION = 1
MAX_AMOUNT_MINOR = 2**53 - 1
"""Largest amount accepted: RFC 8785 represents integers exactly only up to here."""
MAX_TEXT_LENGTH = 4096
MAX_LINES = 10_000

_DECIMAL = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

_NOT_A_FLOAT = (
    "must not be a number with a fraction or exponent: give minor units as an "
    "integer or major units as a decimal string"
)

_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)


class Party(BaseModel):
    """A seller or buyer, identified by its tax id."""

    model_config = _STRICT

    tax_id: str
    name: str
    address: str | None = None


class LineItem(BaseModel):
    """A priced line: ``amount_minor`` is ``quantity * unit_price_minor``, rounded."""

    model_config = _STRICT

    description: str
    quantity: str
    unit_price_minor: int
    amount_minor: int


class DeliveryLine(BaseModel):
    """A delivered line: what and how much, without prices."""

    model_config = _STRICT

    description: str
    quantity: str


class PurchaseOrder(BaseModel):
    """A buyer's order to a seller."""

    model_config = _STRICT

    type: Literal["purchase_order"] = "purchase_order"
    number: str
    issued_on: date
    seller: Party
    buyer: Party
    currency: str
    lines: tuple[LineItem, ...]
    subtotal_minor: int
    tax_minor: int
    total_minor: int


class DeliveryNote(BaseModel):
    """Goods delivered against a purchase order (by number, optionally by its root)."""

    model_config = _STRICT

    type: Literal["delivery_note"] = "delivery_note"
    number: str
    issued_on: date
    seller: Party
    buyer: Party
    order_number: str
    order_root: str | None = None
    lines: tuple[DeliveryLine, ...]


class Invoice(BaseModel):
    """A seller's claim on a buyer, payable on ``due_on``."""

    model_config = _STRICT

    type: Literal["invoice"] = "invoice"
    number: str
    issued_on: date
    due_on: date
    seller: Party
    buyer: Party
    currency: str
    order_numbers: tuple[str, ...]
    delivery_note_numbers: tuple[str, ...]
    lines: tuple[LineItem, ...]
    subtotal_minor: int
    tax_minor: int
    total_minor: int


class CreditNote(BaseModel):
    """A reduction of an invoice, by its number (optionally by its root)."""

    model_config = _STRICT

    type: Literal["credit_note"] = "credit_note"
    number: str
    issued_on: date
    seller: Party
    buyer: Party
    invoice_number: str
    invoice_root: str | None = None
    reason: str
    currency: str
    lines: tuple[LineItem, ...]
    subtotal_minor: int
    tax_minor: int
    total_minor: int


Record: TypeAlias = PurchaseOrder | DeliveryNote | Invoice | CreditNote

_PRICED_KEYS = {"currency", "lines", "subtotal", "subtotal_minor", "tax", "tax_minor"}
_PRICED_KEYS |= {"total", "total_minor"}
_COMMON_KEYS = {"type", "version", "number", "issued_on", "seller", "buyer"}
_KEYS: dict[str, set[str]] = {
    "purchase_order": _COMMON_KEYS | _PRICED_KEYS,
    "delivery_note": _COMMON_KEYS | {"order_number", "order_root", "lines"},
    "invoice": _COMMON_KEYS
    | _PRICED_KEYS
    | {"due_on", "order_numbers", "delivery_note_numbers"},
    "credit_note": _COMMON_KEYS
    | _PRICED_KEYS
    | {"invoice_number", "invoice_root", "reason"},
}


def load_record_json(text: str | bytes) -> Record:
    """Parse a record from JSON text, refusing floats, NaN, Infinity and duplicate keys.

    Args:
        text: UTF-8 JSON text of one record object.

    Returns:
        The validated record.

    Raises:
        RecordValidationError: the text is not JSON, or the record is invalid; a number
            written with a fraction or exponent (``1234.5``) is named by its field.
    """
    try:
        data = loads_strict(text)
    except ValueError as err:
        raise RecordValidationError(
            [RecordError("", f"not valid JSON: {err}")]
        ) from err
    return parse_record(data)


class _Reader:
    """Reads raw input, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[RecordError] = []

    def fail(self, path: str, message: str, *, amount: bool = False) -> None:
        error_type = InvalidAmountError if amount else RecordError
        self.problems.append(error_type(path, message))

    def obj(self, value: object, path: str, allowed: set[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(path, "must be a JSON object")
            return {}
        for key in getattr(value, "duplicate_keys", ()):
            self.fail(f"{path}/{_escape(key)}", "key appears more than once")
        for key in value:
            if key not in allowed:
                self.fail(f"{path}/{_escape(str(key))}", "unknown field")
        return value

    def text(self, data: Mapping[str, Any], key: str, path: str) -> str:
        value = data.get(key)
        where = f"{path}/{key}"
        if value is None:
            self.fail(where, "is required")
            return ""
        if not isinstance(value, str):
            self.fail(where, "must be a string")
            return ""
        if not value.strip():
            self.fail(where, "must not be empty")
        elif len(value) > MAX_TEXT_LENGTH:
            self.fail(where, f"must be at most {MAX_TEXT_LENGTH} characters")
        elif _CONTROL.search(value):
            self.fail(where, "must not contain control characters")
        elif _SURROGATE.search(value):
            self.fail(where, "must be valid Unicode (lone surrogate)")
        return value

    def optional_text(self, data: Mapping[str, Any], key: str, path: str) -> str | None:
        return None if data.get(key) is None else self.text(data, key, path)

    def text_list(
        self, data: Mapping[str, Any], key: str, path: str
    ) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list):
            self.fail(f"{path}/{key}", "must be an array of strings")
            return ()
        where = f"{path}/{key}"
        items = {str(i): item for i, item in enumerate(value)}
        return tuple(self.text(items, str(i), where) for i in range(len(value)))

    def calendar_date(self, data: Mapping[str, Any], key: str, path: str) -> date:
        value = data.get(key)
        where = f"{path}/{key}"
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            self.fail(where, "must be an ISO 8601 calendar date YYYY-MM-DD")
            return date.min
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(where, f"{value!r} is not a date that exists")
            return date.min

    def root(self, data: Mapping[str, Any], key: str, path: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        try:
            return to_hex(bytes32(value, field=f"{path}/{key}"))
        except RecordError as err:
            self.problems.append(err)
            return None

    def currency(self, data: Mapping[str, Any], path: str) -> tuple[str, int | None]:
        value = data.get("currency")
        where = f"{path}/currency"
        if not isinstance(value, str):
            self.fail(where, "must be an ISO 4217 currency code")
            return "", None
        exponent = minor_unit_exponent(value)
        if exponent is None:
            known_upper = minor_unit_exponent(value.upper()) is not None
            hint = (
                "must be upper case" if known_upper else "is not a known ISO 4217 code"
            )
            self.fail(where, f"{value!r} {hint}")
        return value, exponent

    def amount(
        self,
        data: Mapping[str, Any],
        name: str,
        path: str,
        exponent: int | None,
        *,
        required: bool = True,
        allow_zero: bool = False,
    ) -> int:
        minor_key, major_key = f"{name}_minor", name
        if minor_key in data and major_key in data:
            self.fail(
                f"{path}/{major_key}", f"give {minor_key} or {major_key}, not both"
            )
            return 0
        if minor_key in data:
            return self._minor(data[minor_key], f"{path}/{minor_key}", allow_zero)
        if major_key in data:
            return self._major(
                data[major_key], f"{path}/{major_key}", exponent, allow_zero
            )
        if required:
            self.fail(f"{path}/{minor_key}", "is required", amount=True)
        return 0

    def _minor(self, value: object, where: str, allow_zero: bool) -> int:
        if isinstance(value, float | NonIntegerNumber):
            self.fail(where, _NOT_A_FLOAT, amount=True)
            return 0
        if type(value) is not int:
            self.fail(where, "must be a JSON integer of minor units", amount=True)
            return 0
        return self._bounded(value, where, allow_zero)

    def _major(
        self, value: object, where: str, exponent: int | None, allow_zero: bool
    ) -> int:
        if isinstance(value, float | NonIntegerNumber):
            self.fail(where, _NOT_A_FLOAT, amount=True)
            return 0
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            self.fail(where, "must be a decimal string like '1234.50'", amount=True)
            return 0
        if exponent is None:
            return 0  # the currency's own problem is already reported
        whole, _, fraction = value.partition(".")
        if len(fraction) > exponent:
            self.fail(where, f"has more than {exponent} decimals", amount=True)
            return 0
        if len(whole) > 20:
            self.fail(where, "is too large", amount=True)
            return 0
        return self._bounded(
            int(whole + fraction.ljust(exponent, "0")), where, allow_zero
        )

    def _bounded(self, value: int, where: str, allow_zero: bool) -> int:
        if value < 0 or (value == 0 and not allow_zero):
            self.fail(where, "must be positive", amount=True)
        elif value > MAX_AMOUNT_MINOR:
            self.fail(
                where, f"must be at most {MAX_AMOUNT_MINOR} minor units", amount=True
            )
        return value

    def quantity(self, data: Mapping[str, Any], path: str) -> str:
        value = data.get("quantity")
        where = f"{path}/quantity"
        if type(value) is int and 0 < value <= MAX_AMOUNT_MINOR:
            return str(value)
        if isinstance(value, str) and len(value) <= 40 and _DECIMAL.fullmatch(value):
            normal = value.rstrip("0").rstrip(".") if "." in value else value
            if normal != "0":
                return normal
        self.fail(where, "must be a positive integer or decimal string like '2.5'")
        return ""

    def party(self, data: Mapping[str, Any], key: str, path: str) -> Party:
        where = f"{path}/{key}"
        raw = self.obj(data.get(key), where, {"tax_id", "name", "address"})
        return Party.model_construct(
            tax_id=self.text(raw, "tax_id", where),
            name=self.text(raw, "name", where),
            address=self.optional_text(raw, "address", where),
        )

    def lines(
        self, data: Mapping[str, Any], path: str, read: Callable[[object, str], Any]
    ) -> tuple[Any, ...]:
        value = data.get("lines")
        where = f"{path}/lines"
        if not isinstance(value, list) or not value:
            self.fail(where, "must be a non-empty array")
            return ()
        if len(value) > MAX_LINES:
            self.fail(where, f"must have at most {MAX_LINES} lines")
            return ()
        return tuple(read(item, f"{where}/{i}") for i, item in enumerate(value))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _read_priced_line(reader: _Reader, exponent: int | None) -> Callable[..., LineItem]:
    def read(value: object, path: str) -> LineItem:
        keys = {"description", "quantity", "unit_price", "unit_price_minor"}
        raw = reader.obj(value, path, keys | {"amount", "amount_minor"})
        description = reader.text(raw, "description", path)
        quantity = reader.quantity(raw, path)
        unit_price = reader.amount(raw, "unit_price", path, exponent)
        amount = reader.amount(raw, "amount", path, exponent)
        product = Decimal(quantity or 0) * unit_price
        if quantity and unit_price and amount and abs(product - amount) >= 1:
            key = "amount_minor" if "amount_minor" in raw else "amount"
            reader.fail(
                f"{path}/{key}",
                f"is not quantity x unit price ({product} minor units)",
                amount=True,
            )
        return LineItem.model_construct(
            description=description,
            quantity=quantity,
            unit_price_minor=unit_price,
            amount_minor=amount,
        )

    return read


def _read_delivery_line(reader: _Reader) -> Callable[..., DeliveryLine]:
    def read(value: object, path: str) -> DeliveryLine:
        raw = reader.obj(value, path, {"description", "quantity"})
        return DeliveryLine.model_construct(
            description=reader.text(raw, "description", path),
            quantity=reader.quantity(raw, path),
        )

    return read


def _read_priced(reader: _Reader, data: Mapping[str, Any]) -> dict[str, Any]:
    currency, exponent = reader.currency(data, "")
    lines: tuple[LineItem, ...] = reader.lines(
        data, "", _read_priced_line(reader, exponent)
    )
    subtotal = sum(line.amount_minor for line in lines)
    given_subtotal = reader.amount(data, "subtotal", "", exponent, required=False)
    tax = reader.amount(data, "tax", "", exponent, required=False, allow_zero=True)
    total = reader.amount(data, "total", "", exponent)
    if given_subtotal and given_subtotal != subtotal:
        key = "/subtotal_minor" if "subtotal_minor" in data else "/subtotal"
        reader.fail(key, f"line amounts sum to {subtotal} minor units", amount=True)
    if total and lines and total != subtotal + tax:
        key = "/total_minor" if "total_minor" in data else "/total"
        reader.fail(
            key,
            f"line amounts plus tax sum to {subtotal + tax} minor units",
            amount=True,
        )
    return {
        "currency": currency,
        "lines": lines,
        "subtotal_minor": subtotal,
        "tax_minor": tax,
        "total_minor": total,
    }


def parse_record(data: Mapping[str, Any]) -> Record:
    """Validate and normalise raw record data, dispatching on its ``type``.

    Args:
        data: a mapping such as ``json.loads`` gives (prefer :func:`load_record_json`,
            which refuses floats). ``type`` is one of ``purchase_order``,
            ``delivery_note``, ``invoice``, ``credit_note``; ``version`` may be given
            and must then be 1.

    Returns:
        A frozen :data:`Record` holding normalised values.

    Raises:
        RecordValidationError: one or more problems, each with its JSON Pointer.
    """
    reader = _Reader()
    if not isinstance(data, Mapping):
        raise RecordValidationError([RecordError("", "must be a JSON object")])
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in _KEYS:
        reader.fail("/type", f"must be one of {', '.join(sorted(_KEYS))}")
        raise RecordValidationError(reader.problems)
    raw = reader.obj(data, "", _KEYS[kind])
    if "version" in raw and (type(raw["version"]) is not int or raw["version"] != 1):
        reader.fail("/version", f"must be {SCHEMA_VERSION}")

    common: dict[str, Any] = {
        "number": reader.text(raw, "number", ""),
        "issued_on": reader.calendar_date(raw, "issued_on", ""),
        "seller": reader.party(raw, "seller", ""),
        "buyer": reader.party(raw, "buyer", ""),
    }
    record = _read_kind(reader, kind, raw, common)
    if reader.problems:
        raise RecordValidationError(reader.problems)
    return record


def _read_kind(
    reader: _Reader, kind: str, raw: Mapping[str, Any], common: dict[str, Any]
) -> Record:
    if kind == "delivery_note":
        return DeliveryNote.model_construct(
            **common,
            order_number=reader.text(raw, "order_number", ""),
            order_root=reader.root(raw, "order_root", ""),
            lines=reader.lines(raw, "", _read_delivery_line(reader)),
        )
    priced = _read_priced(reader, raw)
    if kind == "purchase_order":
        return PurchaseOrder.model_construct(**common, **priced)
    if kind == "credit_note":
        return CreditNote.model_construct(
            **common,
            **priced,
            invoice_number=reader.text(raw, "invoice_number", ""),
            invoice_root=reader.root(raw, "invoice_root", ""),
            reason=reader.text(raw, "reason", ""),
        )
    due_on = reader.calendar_date(raw, "due_on", "")
    if date.min < due_on < common["issued_on"]:
        reader.fail("/due_on", "must not be before issued_on")
    return Invoice.model_construct(
        **common,
        **priced,
        due_on=due_on,
        order_numbers=reader.text_list(raw, "order_numbers", ""),
        delivery_note_numbers=reader.text_list(raw, "delivery_note_numbers", ""),
    )


def record_to_canonical_dict(record: Record) -> dict[str, Any]:
    """The normalised, JSON-ready form of a record: what is canonicalised and hashed.

    Args:
        record: a record from :func:`parse_record` (or built directly).

    Returns:
        A dict of str, int, list and dict values with ``type`` and ``version`` (1);
        absent optional fields (an address, an order root) are left out, not null.
    """
    data = record.model_dump(mode="json", exclude_none=True)
    data["version"] = SCHEMA_VERSION
    return data
