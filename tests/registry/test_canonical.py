"""Canonical JSON, flattening into fields, and the unsalted content hash."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from registry.canonical import (
    MAX_SAFE_INTEGER,
    canonical_bytes,
    content_hash,
    flatten,
    scalar_json,
    unescape_pointer_token,
)
from registry.errors import RecordError
from registry.records import load_record_json
from tests.registry.test_records import invoice_data

safe_ints = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
texts = st.text(st.characters(exclude_categories=("Cs",)))
scalars = st.one_of(st.none(), st.booleans(), safe_ints, texts)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(texts, children, max_size=4)
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(texts, json_values, max_size=6)


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in a random order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


class TestScalarFastPath:
    @given(scalars)
    def test_scalar_json_is_byte_identical_to_rfc8785(self, value: Any) -> None:
        assert scalar_json(value) == rfc8785.dumps(value)

    @given(st.text())
    def test_any_text_either_matches_rfc8785_or_both_refuse(self, value: str) -> None:
        try:
            expected = rfc8785.dumps(value)
        except rfc8785.CanonicalizationError:
            with pytest.raises(RecordError):
                scalar_json(value)
        else:
            assert scalar_json(value) == expected

    def test_empty_containers_match_rfc8785(self) -> None:
        assert scalar_json({}) == rfc8785.dumps({}) == b"{}"
        assert scalar_json([]) == rfc8785.dumps([]) == b"[]"

    def test_control_characters_are_escaped_as_rfc8785_does(self) -> None:
        value = "".join(chr(c) for c in range(0x20)) + '"\\\x7f\u2028'

        assert scalar_json(value) == rfc8785.dumps(value)

    @pytest.mark.parametrize("value", [1.5, 2**53, -(2**53), {"a": 1}, [1], b"x"])
    def test_non_field_values_are_refused(self, value: Any) -> None:
        with pytest.raises(RecordError):
            scalar_json(value)

    def test_true_and_one_are_different_values(self) -> None:
        assert scalar_json(True) != scalar_json(1)


class TestCanonicalBytes:
    @given(json_objects, st.randoms(use_true_random=False))
    def test_key_order_and_whitespace_never_change_canonical_bytes(
        self, value: dict[str, Any], rng: random.Random
    ) -> None:
        text = json.dumps(shuffled(value, rng), indent=rng.choice([None, 1, 4]))

        assert canonical_bytes(json.loads(text)) == canonical_bytes(value)

    def test_keys_are_sorted_by_utf16_code_units(self) -> None:
        value = {"\U0001f600": 1, "\uffff": 2, "a": 3}

        assert canonical_bytes(value) == rfc8785.dumps(value)
        assert canonical_bytes(value).index(b"\xf0\x9f") < canonical_bytes(value).index(
            b"\xef\xbf\xbf"
        )

    def test_float_anywhere_is_refused_naming_the_field(self) -> None:
        with pytest.raises(RecordError) as caught:
            canonical_bytes({"lines": [{"amount": 1.5}]})

        assert caught.value.field == "/lines/0/amount"

    def test_unsafe_integer_is_refused(self) -> None:
        with pytest.raises(RecordError):
            canonical_bytes({"total_minor": 2**53})


class TestFlatten:
    def test_one_field_per_scalar_addressed_by_json_pointer(self) -> None:
        value = {"a": {"b": [10, "x"]}, "c": None, "d": True}

        assert flatten(value) == [
            ("/a/b/0", 10),
            ("/a/b/1", "x"),
            ("/c", None),
            ("/d", True),
        ]

    def test_empty_object_and_array_are_one_field_each(self) -> None:
        assert flatten({"a": {}, "b": [], "c": [{}]}) == [
            ("/a", {}),
            ("/b", []),
            ("/c/0", {}),
        ]

    def test_tilde_and_slash_in_keys_are_escaped_per_rfc6901(self) -> None:
        assert flatten({"a/b": 1, "m~n": 2, "~1": 3, "": 4}) == [
            ("/a~1b", 1),
            ("/m~0n", 2),
            ("/~01", 3),
            ("/", 4),
        ]

    @given(json_objects)
    def test_paths_are_unique_and_unescape_to_the_keys(
        self, value: dict[str, Any]
    ) -> None:
        fields = flatten(value)
        paths = [path for path, _ in fields]

        assert len(paths) == len(set(paths))
        for path, leaf in fields:
            node: Any = value
            for token in path.split("/")[1:]:
                key = unescape_pointer_token(token)
                node = node[int(key)] if isinstance(node, list) else node[key]
            assert node == leaf
            assert type(node) is type(leaf)

    def test_float_is_refused_naming_the_field(self) -> None:
        with pytest.raises(RecordError) as caught:
            flatten({"x": [1, 2.5]})

        assert caught.value.field == "/x/1"


class TestContentHash:
    def test_reordered_keys_and_whitespace_give_same_content_hash(self) -> None:
        data = invoice_data()
        rng = random.Random(7)
        text = json.dumps(shuffled(data, rng), indent=3, ensure_ascii=True)

        assert content_hash(load_record_json(text)) == content_hash(data)

    def test_equivalent_amount_spellings_give_same_content_hash(self) -> None:
        a = content_hash(invoice_data(tax="7.00", total="44.00"))
        b = content_hash(invoice_data(tax="7", total="44.0"))
        minor = invoice_data(tax_minor=700, total_minor=4400)
        del minor["tax"], minor["total"]

        assert a == b == content_hash(minor)

    def test_one_cent_change_gives_different_hash(self) -> None:
        base = invoice_data()
        changed = invoice_data(tax="7.04", total="44.04")

        assert content_hash(base) != content_hash(changed)

    def test_content_hash_is_keccak_of_the_canonical_bytes(self) -> None:
        from registry.hashing import keccak256
        from registry.records import parse_record, record_to_canonical_dict

        record = parse_record(invoice_data())
        expected = keccak256(rfc8785.dumps(record_to_canonical_dict(record)))

        assert content_hash(record) == expected


ascii_keys = st.text(st.characters(max_codepoint=127), max_size=8)
ascii_keyed_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(ascii_keys, children, max_size=4),
    ),
    max_leaves=20,
)


class TestCanonicalFastPath:
    @given(st.dictionaries(ascii_keys, ascii_keyed_values, max_size=6))
    def test_ascii_keyed_objects_are_byte_identical_to_rfc8785(
        self, value: dict[str, Any]
    ) -> None:
        assert canonical_bytes(value) == rfc8785.dumps(value)

    @given(json_objects)
    def test_any_keys_are_byte_identical_to_rfc8785(
        self, value: dict[str, Any]
    ) -> None:
        assert canonical_bytes(value) == rfc8785.dumps(value)

    def test_keys_beyond_the_basic_plane_sort_by_utf16_code_units(self) -> None:
        # U+1F600 is the surrogate pair D83D DE00 in UTF-16, which sorts before U+FF01
        # although its code point is larger: RFC 8785 orders by UTF-16 code units.
        value = {"\uff01": 1, "\U0001f600": 2}

        assert canonical_bytes(value) == rfc8785.dumps(value)
        assert canonical_bytes(value).index("\U0001f600".encode()) < canonical_bytes(
            value
        ).index("\uff01".encode())
