"""Request and response bodies for parties."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.models import PartyRole
from registry.fingerprints import normalise_tax_id
from registry.hashing import keccak256

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def checksum_address(address: str) -> str:
    """The EIP-55 mixed-case checksum form of a 20-byte hex address.

    Raises:
        ValueError: not ``0x`` + 40 hex digits, or mixed case with a wrong checksum.
    """
    if not _ADDRESS.fullmatch(address):
        raise ValueError("must be 0x followed by 40 hex digits")
    digits = address[2:].lower()
    mask = keccak256(digits.encode()).hex()[:40]
    checksummed = "0x" + "".join(
        c.upper() if c.isalpha() and int(m, 16) >= 8 else c
        for c, m in zip(digits, mask, strict=True)
    )
    body = address[2:]
    if body != body.lower() and body != body.upper() and address != checksummed:
        raise ValueError("EIP-55 checksum does not match")
    return checksummed


class PartyCreate(BaseModel):
    """A party to onboard. Sellers and buyers need a tax id; all but operators an
    Ethereum address."""

    model_config = ConfigDict(extra="forbid", strict=True)

    role: PartyRole
    name: str = Field(min_length=1, max_length=512)
    tax_id: str | None = Field(default=None, min_length=1, max_length=64)
    eth_address: str | None = None

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: object) -> object:
        return PartyRole(value) if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if _CONTROL.search(value) or not value.strip():
            raise ValueError("must be non-empty text without control characters")
        return value

    @field_validator("tax_id")
    @classmethod
    def _tax_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        normal = normalise_tax_id(value)
        if not normal or _CONTROL.search(normal):
            raise ValueError("must be a tax id without control characters")
        return normal

    @field_validator("eth_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else checksum_address(value)


class PartyOut(BaseModel):
    """A registered party."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    role: PartyRole
    name: str
    tax_id: str | None
    eth_address: str | None
    created_at: datetime


class PartyCreated(BaseModel):
    """A new party and its API token. The token is shown only in this response."""

    party: PartyOut
    token: str
