"""Reading credit facts out of canonical records (``registry.records``).

Invariants:
    * A party is keyed by its normalised tax id (``registry.fingerprints``), so the
      seller and buyer personas of one company are one node.
    * A record's quantity is the sum of its line quantities (decimal strings read
      as floats: they only enter delivered / ordered ratios).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.fingerprints import normalise_tax_id


def party_key(data: Mapping[str, Any], role: str) -> str:
    """The normalised tax id of the record's ``seller`` or ``buyer``."""
    party: Mapping[str, Any] = data[role]
    return normalise_tax_id(str(party["tax_id"]))


def quantity_of(data: Mapping[str, Any]) -> float:
    """The sum of the record's line quantities (0.0 when it has no lines)."""
    return sum(float(line["quantity"]) for line in data.get("lines", ()))


def address_of(data: Mapping[str, Any], role: str) -> str | None:
    """The address the record gives for ``role`` (None when absent)."""
    party: Mapping[str, Any] = data[role]
    address = party.get("address")
    return None if address is None else str(address)
