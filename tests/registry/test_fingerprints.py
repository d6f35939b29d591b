"""Fingerprints: normalisation, keying, nullifiers, and the canonical fast path."""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from registry.errors import ConfigurationError
from registry.fingerprints import (
    FINGERPRINT_TAG,
    NULLIFIER_TAG,
    _canonical,
    document_keys,
    fingerprint,
    nullifier,
)
from registry.hashing import keccak256
from registry.records import parse_record

KEY = bytes(range(32))


def _invoice(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "type": "invoice",
        "number": "INV-7",
        "issued_on": "2025-01-15",
        "due_on": "2025-02-15",
        "seller": {"tax_id": "DE 111", "name": "S"},
        "buyer": {"tax_id": "DE222", "name": "B"},
        "currency": "EUR",
        "lines": [
            {
                "description": "x",
                "quantity": "1",
                "unit_price_minor": 5,
                "amount_minor": 5,
            }
        ],
        "total_minor": 5,
    }
    record.update(overrides)
    return record


def test_fingerprint_is_hmac_over_the_canonical_normalised_identity() -> None:
    expected = hmac.new(
        KEY, FINGERPRINT_TAG + b'["DE111","INV-7","invoice",2025]', hashlib.sha256
    ).digest()

    assert fingerprint(KEY, " de 111", "  inv-7 ", "invoice", 2025) == expected


def test_number_spelling_does_not_change_the_fingerprint_but_year_and_kind_do() -> None:
    base = fingerprint(KEY, "DE111", "INV-7", "invoice", 2025)

    assert fingerprint(KEY, "de111", " inv-7\t", "invoice", 2025) == base
    assert fingerprint(KEY, "DE111", "INV-7", "invoice", 2026) != base
    assert fingerprint(KEY, "DE111", "INV-7", "purchase_order", 2025) != base
    assert fingerprint(bytes(32), "DE111", "INV-7", "invoice", 2025) != base


def test_document_keys_of_equivalent_records_are_equal() -> None:
    first = document_keys(KEY, parse_record(_invoice()))
    second = document_keys(KEY, parse_record(_invoice(number=" inv-7 ")))
    other_amount = document_keys(
        KEY,
        parse_record(
            _invoice(
                number="INV-8",
                lines=[
                    {
                        "description": "x",
                        "quantity": "1",
                        "unit_price_minor": 6,
                        "amount_minor": 6,
                    }
                ],
                total_minor=6,
            )
        ),
    )

    assert first.fingerprint == second.fingerprint
    assert first.similarity_key == second.similarity_key
    assert first.similarity_key != other_amount.similarity_key
    assert first.lines_key != other_amount.lines_key


def test_nullifier_is_keccak_of_tag_and_fingerprint() -> None:
    value = fingerprint(KEY, "DE111", "INV-7", "invoice", 2025)

    assert nullifier(value) == keccak256(NULLIFIER_TAG + value)
    assert len(nullifier(value)) == 32


def test_short_key_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        fingerprint(os.urandom(16), "DE111", "INV-7", "invoice", 2025)


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
_values = st.recursive(
    _text | st.integers(-(2**53) + 1, 2**53 - 1),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(st.characters(max_codepoint=127), max_size=8), inner, max_size=4
        )
    ),
    max_leaves=12,
)


@given(_values)
def test_fast_canonical_form_equals_rfc8785(value: object) -> None:
    assert _canonical(value) == rfc8785.dumps(value)
