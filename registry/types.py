"""Domain value types and strict hex helpers.

Hex on the wire is always ``0x``-prefixed, lower- or upper-case, of exactly the expected
length; anything else is refused with the field named, so nothing malformed reaches a
contract call.
"""

from __future__ import annotations

import re
from typing import NewType

from registry.errors import RecordError

DocumentRoot = NewType("DocumentRoot", bytes)
"""Root of a document's salted field tree (32 bytes)."""

BatchRoot = NewType("BatchRoot", bytes)
"""Root of a batch tree over document roots (32 bytes), the value anchored on chain."""

Fingerprint = NewType("Fingerprint", bytes)
"""Keyed hash over an invoice's normalised identity (32 bytes)."""

Nullifier = NewType("Nullifier", bytes)
"""Value published on chain when a fingerprint's invoice is financed (32 bytes)."""

_HEX = re.compile(r"0x[0-9a-fA-F]*")


def hex_to_bytes(value: object, *, field: str, length: int | None = None) -> bytes:
    """Decode a ``0x``-prefixed hex string.

    Args:
        value: the value to decode; anything other than a str is refused.
        field: the JSON Pointer named in the error.
        length: the exact number of bytes wanted, or None for any whole number.

    Returns:
        The decoded bytes.

    Raises:
        RecordError: not a string, no ``0x`` prefix, not hex, odd or wrong length.
    """
    if not isinstance(value, str):
        raise RecordError(field, "must be a 0x-prefixed hex string")
    if not _HEX.fullmatch(value):
        raise RecordError(field, "must be a 0x-prefixed hex string")
    digits = len(value) - 2
    if digits % 2:
        raise RecordError(field, "hex string has an odd number of digits")
    if length is not None and digits != 2 * length:
        raise RecordError(field, f"must be {length} bytes ({2 * length} hex digits)")
    return bytes.fromhex(value[2:])


def bytes32(value: object, *, field: str) -> bytes:
    """Decode a ``0x``-prefixed 32-byte hex string (see :func:`hex_to_bytes`)."""
    return hex_to_bytes(value, field=field, length=32)


def to_hex(data: bytes) -> str:
    """Encode bytes as a lower-case ``0x``-prefixed hex string."""
    return "0x" + data.hex()
