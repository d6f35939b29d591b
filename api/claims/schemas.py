"""Request and response bodies for claims, offers and relayed transactions."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_HEX = re.compile(r"0x([0-9a-fA-F]{2})*")
_CLAIM_ID = re.compile(r"0x[0-9a-fA-F]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def hex_bytes(value: str, field: str, *, length: int | None = None) -> bytes:
    """0x-hex to bytes (``length`` bytes when given)."""
    if not _HEX.fullmatch(value):
        raise ValueError(f"{field} must be 0x followed by an even number of hex digits")
    data = bytes.fromhex(value[2:])
    if length is not None and len(data) != length:
        raise ValueError(f"{field} must be {length} bytes")
    return data


def claim_id_bytes(claim_id: str) -> bytes:
    """A claim id from a path: 0x and 64 hex digits (the invoice's document root)."""
    if not _CLAIM_ID.fullmatch(claim_id):
        raise ValueError("a claim id is 0x followed by 64 hex digits")
    return bytes.fromhex(claim_id[2:])


class TypedDataOut(BaseModel):
    """EIP-712 typed data to sign unchanged with ``eth_signTypedData_v4``."""

    typed_data: dict[str, Any]
    digest: str
    """The EIP-712 digest (what the key signs), for checking a wallet's display."""


class ConfirmationTypedData(TypedDataOut):
    document_id: uuid.UUID
    claim_id: str
    face_value: int
    currency: str
    due_date: int
    deadline: int


class SignedMessage(BaseModel):
    """Typed data as served, and the wallet's 65-byte signature over it."""

    model_config = ConfigDict(extra="forbid")

    typed_data: dict[str, Any]
    signature: str = Field(max_length=200)

    def signature_bytes(self) -> bytes:
        return hex_bytes(self.signature, "signature")

    @field_validator("signature")
    @classmethod
    def _signature(cls, value: str) -> str:
        hex_bytes(value, "signature")
        return value


class RejectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if _CONTROL.search(value.replace("\n", " ")) or not value.strip():
            raise ValueError("must be non-empty text without control characters")
        return value


class OfferDraftRequest(BaseModel):
    """What the holder wants to sell: units, at a simple daily discount rate."""

    model_config = ConfigDict(extra="forbid")

    units: int = Field(gt=0, lt=2**96)
    daily_rate: str = Field(max_length=40, description="e.g. '0.0003' = 0.03% a day")
    valid_for_seconds: int = Field(default=86_400, gt=0, le=30 * 86_400)
    buyer: str | None = Field(default=None, description="reserve it for one funder")


class QuoteOut(BaseModel):
    units: int
    price: int
    discount: int
    daily_rate: str
    days_to_maturity: int


class OfferDraftOut(TypedDataOut):
    quote: QuoteOut


class OfferCreate(SignedMessage):
    daily_rate: str = Field(max_length=40)


class CreditOut(BaseModel):
    """The invoice's credit decision (docs/credit.md): band, grade, rate, reasons."""

    band: str = Field(description="approve, review or decline")
    grade: str
    discount_rate_bps: int = Field(description="suggested annual discount rate")
    reasons: list[str]


class OfferOut(BaseModel):
    id: uuid.UUID
    claim_id: str
    seller: str
    buyer: str | None
    units: int
    units_remaining: int
    price: int
    price_per_unit: str
    daily_rate: str
    days_to_maturity: int
    due_date: int
    deadline: int
    status: str
    typed_data: dict[str, Any]
    signature: str
    created_at: datetime
    credit: CreditOut | None = Field(
        default=None, description="the invoice's grade and reasons, for funders"
    )


class OfferList(BaseModel):
    items: list[OfferOut]


class HoldingOut(BaseModel):
    holder: str
    units: int


class ClaimOut(BaseModel):
    claim_id: str
    document_id: uuid.UUID | None
    document_status: str | None
    seller: str
    obligor: str
    currency: str
    face_value: int
    due_date: int
    state: str
    units_sold: int
    repaid: int
    paid_out: int
    units_redeemed: int
    holdings: list[HoldingOut]
    confirmed_block: int
    confirmed_transaction: str


class ClaimList(BaseModel):
    items: list[ClaimOut]


class ClaimEventOut(BaseModel):
    name: str
    args: dict[str, Any]
    block_number: int
    block_time: int
    transaction_hash: str


class ClaimHistory(BaseModel):
    claim_id: str
    events: list[ClaimEventOut]


class SignedTransactionIn(BaseModel):
    """A transaction the party signed itself (EIP-1559 or legacy), as 0x-hex."""

    model_config = ConfigDict(extra="forbid")

    raw: str = Field(max_length=20_000)

    def raw_bytes(self) -> bytes:
        return hex_bytes(self.raw, "raw")

    @field_validator("raw")
    @classmethod
    def _raw(cls, value: str) -> str:
        hex_bytes(value, "raw")
        return value


class RelayedOut(BaseModel):
    """A relayed transaction, mined."""

    action: str
    transaction_hash: str
    block_number: int
    gas_used: int
    claim: ClaimOut | None
