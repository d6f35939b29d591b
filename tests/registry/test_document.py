"""Salted documents: leaves, the field tree, roots, disclosure, golden vectors."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from eth_abi.packed import encode_packed
from eth_utils.crypto import keccak as eth_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.canonical import flatten
from registry.document import (
    DOCUMENT_TAG,
    FIELD_TAG,
    field_leaf,
    root_from_fields,
    seal_canonical,
    seal_document,
    verify_field,
)
from registry.errors import ProofError, RecordError, RecordValidationError
from registry.merkle import build_batch
from registry.records import parse_record, record_to_canonical_dict
from tests.registry.test_canonical import shuffled
from tests.registry.test_records import invoice_data

VECTORS = json.loads(
    (Path(__file__).with_name("vectors") / "hashing_v1.json").read_text("utf-8")
)


def fixed_salts(data: dict[str, Any]) -> dict[str, bytes]:
    canonical = record_to_canonical_dict(parse_record(data))
    return {
        path: eth_keccak(b"receivables.test-vector.salt" + path.encode())
        for path, _ in flatten(canonical)
    }


def sealed(**overrides: Any) -> Any:
    data = invoice_data(**overrides)
    return seal_document(data, fixed_salts(data))


def flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index % len(changed)] ^= 1
    return bytes(changed)


class TestScheme:
    def test_domain_tags_are_keccak_of_their_names(self) -> None:
        assert eth_keccak(b"receivables.field.v1") == FIELD_TAG
        assert eth_keccak(b"receivables.document.v1") == DOCUMENT_TAG

    def test_field_leaf_mirrors_solidity_abi_encode_packed(self) -> None:
        salt = bytes(range(32))
        path, value = "/lines/0/amount_minor", 2500
        preimage = encode_packed(
            ["bytes32", "bytes32", "bytes32", "bytes32"],
            [FIELD_TAG, salt, eth_keccak(path.encode()), eth_keccak(b"2500")],
        )

        assert len(preimage) == 128
        assert field_leaf(path, value, salt) == eth_keccak(preimage)

    def test_document_root_is_tagged_hash_of_field_root(self) -> None:
        document = sealed()

        assert document.root == eth_keccak(DOCUMENT_TAG + document.tree.root)

    def test_each_field_gets_its_own_random_salt(self) -> None:
        first = seal_document(invoice_data())
        second = seal_document(invoice_data())

        assert len(set(first.salts)) == first.field_count
        assert all(len(salt) == 32 for salt in first.salts)
        assert first.root != second.root

    def test_fixed_salts_reproduce_the_root(self) -> None:
        document = seal_document(invoice_data())

        assert seal_document(invoice_data(), document.salt_map).root == document.root

    def test_missing_or_extra_salt_is_refused_naming_the_path(self) -> None:
        salts = fixed_salts(invoice_data())
        missing = dict(salts)
        del missing["/total_minor"]
        extra = {**salts, "/nope": bytes(32)}
        short = {**salts, "/currency": b"short"}

        for bad, path in (
            (missing, "/total_minor"),
            (extra, "/nope"),
            (short, "/currency"),
        ):
            with pytest.raises(RecordError) as caught:
                seal_document(invoice_data(), bad)
            assert caught.value.field == path

    def test_invalid_record_is_refused_before_sealing(self) -> None:
        with pytest.raises(RecordValidationError):
            seal_document(invoice_data(total="1.00"))


class TestGoldenVectors:
    def test_tags_match_the_vectors(self) -> None:
        assert VECTORS["field_tag"] == "0x" + FIELD_TAG.hex()
        assert VECTORS["document_tag"] == "0x" + DOCUMENT_TAG.hex()

    def test_every_field_leaf_matches_the_vectors(self) -> None:
        for item in VECTORS["fields"]:
            value_json = rfc8785.dumps(item["value"])
            salt = bytes.fromhex(item["salt"][2:])
            preimage = FIELD_TAG + salt + eth_keccak(item["path"].encode())
            preimage += eth_keccak(value_json)

            assert value_json.decode() == item["value_json"]
            assert "0x" + eth_keccak(preimage).hex() == item["leaf"]
            assert (
                "0x" + field_leaf(item["path"], item["value"], salt).hex()
                == item["leaf"]
            )

    def test_sample_invoice_reproduces_field_root_and_document_root(self) -> None:
        salts = {f["path"]: bytes.fromhex(f["salt"][2:]) for f in VECTORS["fields"]}

        document = seal_canonical(VECTORS["record"], salts)

        assert document.record == record_to_canonical_dict(parse_record(invoice_data()))
        assert ["0x" + n.hex() for n in document.tree.nodes] == VECTORS["field_tree"]
        assert "0x" + document.tree.root.hex() == VECTORS["field_root"]
        assert "0x" + document.root.hex() == VECTORS["document_root"]
        assert "0x" + sealed().root.hex() == VECTORS["document_root"]

    def test_batch_of_five_reproduces_root_and_proofs(self) -> None:
        batch_vectors = VECTORS["batch"]
        document_roots = [bytes.fromhex(r[2:]) for r in batch_vectors["document_roots"]]

        batch = build_batch(document_roots)

        assert batch_vectors["document_roots"][0] == VECTORS["document_root"]
        assert "0x" + batch.root.hex() == batch_vectors["root"]
        for root, proof in zip(document_roots, batch_vectors["proofs"], strict=True):
            assert ["0x" + n.hex() for n in batch.proof(root)] == proof


class TestDisclosure:
    def test_disclosed_field_verifies_against_the_document_root(self) -> None:
        document = sealed()

        (total,) = document.disclose(["/total_minor"])

        assert total.value == 4403
        assert verify_field(
            document.root, total.path, total.value, total.salt, total.proof
        )

    def test_field_proof_matches_disclosure(self) -> None:
        document = sealed()

        (field,) = document.disclose(["/currency"])

        assert list(field.proof) == document.field_proof("/currency")

    def test_disclosed_value_changed_by_one_cent_fails(self) -> None:
        document = sealed()
        (total,) = document.disclose(["/total_minor"])

        assert not verify_field(
            document.root, total.path, 4404, total.salt, total.proof
        )

    def test_disclosed_value_of_another_type_fails(self) -> None:
        document = sealed()
        (version,) = document.disclose(["/version"])

        assert verify_field(document.root, "/version", 1, version.salt, version.proof)
        assert not verify_field(
            document.root, "/version", True, version.salt, version.proof
        )
        assert not verify_field(
            document.root, "/version", "1", version.salt, version.proof
        )

    def test_field_moved_to_another_path_fails(self) -> None:
        document = sealed()
        (tax,) = document.disclose(["/tax_minor"])

        assert not verify_field(
            document.root, "/total_minor", tax.value, tax.salt, tax.proof
        )

    def test_inner_node_of_the_field_tree_cannot_pose_as_a_field(self) -> None:
        document = sealed()
        nodes = document.tree.nodes
        # node 1 with sibling node 2 reaches the field root ...
        assert eth_keccak(min(nodes[1], nodes[2]) + max(nodes[1], nodes[2])) == nodes[0]
        # ... but a verifier recomputes leaves from path, value and salt
        for f in document.disclose(document.paths):
            assert not verify_field(document.root, f.path, f.value, f.salt, [nodes[2]])

    def test_unknown_path_has_no_proof(self) -> None:
        with pytest.raises(ProofError):
            sealed().disclose(["/nope"])

    def test_root_from_all_fields_equals_the_sealed_root(self) -> None:
        document = sealed()
        fields = list(zip(document.paths, document.values, document.salts, strict=True))
        random.Random(3).shuffle(fields)

        assert root_from_fields(fields) == document.root

    def test_duplicated_last_field_is_refused(self) -> None:
        document = sealed()
        fields = list(zip(document.paths, document.values, document.salts, strict=True))

        with pytest.raises(RecordError):
            root_from_fields([*fields, fields[-1]])


class TestProperties:
    @settings(max_examples=25, deadline=None)
    @given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=8))
    def test_key_order_and_whitespace_never_change_the_document_root(
        self, rng: random.Random, indent: int
    ) -> None:
        data = invoice_data()
        text = json.dumps(shuffled(data, rng), indent=indent or None)

        reordered = seal_document(json.loads(text), fixed_salts(data))

        assert reordered.root == sealed().root

    @settings(max_examples=60, deadline=None)
    @given(st.data())
    def test_any_single_byte_change_to_value_salt_or_proof_fails(
        self, data: st.DataObject
    ) -> None:
        document = sealed()
        path = data.draw(st.sampled_from(document.paths))
        (field,) = document.disclose([path])
        part = data.draw(st.sampled_from(["value", "salt", "proof"]))
        index = data.draw(st.integers(min_value=0, max_value=1 << 16))

        value, salt, proof = field.value, field.salt, list(field.proof)
        if part == "salt":
            salt = flip(salt, index)
        elif part == "proof":
            node = index % len(proof)
            proof[node] = flip(proof[node], index // len(proof))
        elif isinstance(value, str) and value:
            raw = flip(value.encode(), index)
            value = raw.decode("utf-8", errors="replace")
        else:
            value = _other_value(value)

        assert not verify_field(document.root, path, value, salt, proof)


def _other_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int):
        return value + 1
    if isinstance(value, list):
        return {}
    if isinstance(value, dict):
        return []
    return "x"
