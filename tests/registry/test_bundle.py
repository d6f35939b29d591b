"""Evidence bundles: assembling, strict parsing, deterministic serialising."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from registry.bundle import (
    BundleAnchor,
    EvidenceBundle,
    bundle_to_dict,
    dump_bundle,
    load_bundle,
    make_bundle,
    parse_bundle,
)
from registry.document import SaltedDocument, seal_document
from registry.errors import BundleFormatError, ProofError
from registry.merkle import BatchTree, build_batch
from tests.registry.test_records import invoice_data

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ANCHOR = BundleAnchor(
    chain_id=31337,
    contract=CONTRACT,
    transaction_hash=bytes.fromhex("aa" * 32),
    block_number=7,
    block_hash=bytes.fromhex("bb" * 32),
    batch_id=1,
)


def sealed_batch(count: int = 5) -> tuple[list[SaltedDocument], BatchTree]:
    documents = [seal_document(invoice_data(number=f"INV-{i}")) for i in range(count)]
    return documents, build_batch([d.root for d in documents])


def complete_bundle() -> EvidenceBundle:
    documents, batch = sealed_batch()
    return make_bundle(documents[2], batch, ANCHOR)


def partial_bundle() -> EvidenceBundle:
    documents, batch = sealed_batch()
    return make_bundle(
        documents[2], batch, ANCHOR, disclose=["/total_minor", "/currency", "/due_on"]
    )


def refused_at(data: Any) -> str:
    with pytest.raises(BundleFormatError) as caught:
        parse_bundle(data)
    return caught.value.field


class TestAssembling:
    def test_complete_bundle_holds_every_field_without_proofs(self) -> None:
        bundle = complete_bundle()

        assert bundle.document.complete
        assert len(bundle.document.fields) == bundle.document.field_count
        assert all(f.proof is None for f in bundle.document.fields)
        assert bundle.document.type == "invoice"

    def test_partial_bundle_holds_disclosed_fields_with_proofs(self) -> None:
        bundle = partial_bundle()

        assert not bundle.document.complete
        assert [f.path for f in bundle.document.fields] == [
            "/currency",
            "/due_on",
            "/total_minor",
        ]
        assert all(f.proof for f in bundle.document.fields)

    def test_document_outside_the_batch_has_no_bundle(self) -> None:
        _, batch = sealed_batch()
        stranger = seal_document(invoice_data(number="INV-X"))

        with pytest.raises(ProofError):
            make_bundle(stranger, batch)


class TestSerialising:
    def test_round_trip_through_json_gives_the_same_bundle(self) -> None:
        for bundle in (complete_bundle(), partial_bundle()):
            assert load_bundle(dump_bundle(bundle)) == bundle

    def test_serialising_is_deterministic_sorted_and_indented(self) -> None:
        bundle = partial_bundle()
        text = dump_bundle(bundle)

        assert text == dump_bundle(load_bundle(text.encode()))
        assert (
            text == json.dumps(bundle_to_dict(bundle), sort_keys=True, indent=2) + "\n"
        )
        assert text.startswith('{\n  "anchor": {\n    "batch_id": 1,')

    def test_unanchored_bundle_serialises_anchor_as_null(self) -> None:
        documents, batch = sealed_batch(1)
        bundle = make_bundle(documents[0], batch)

        assert bundle_to_dict(bundle)["anchor"] is None
        assert load_bundle(dump_bundle(bundle)).anchor is None

    def test_missing_anchor_key_is_an_unanchored_bundle(self) -> None:
        data = bundle_to_dict(complete_bundle())
        del data["anchor"]

        assert parse_bundle(data).anchor is None


class TestStrictParsing:
    def good(self) -> dict[str, Any]:
        return copy.deepcopy(bundle_to_dict(partial_bundle()))

    def test_wrong_version_is_refused(self) -> None:
        data = self.good()
        data["version"] = 2

        assert refused_at(data) == "/version"

    def test_wrong_format_is_refused(self) -> None:
        data = self.good()
        data["format"] = "something-else"

        assert refused_at(data) == "/format"

    @pytest.mark.parametrize(
        ("part", "key"),
        [
            ("document", "root"),
            ("document", "fields"),
            ("batch", "proof"),
            ("batch", "root"),
            ("anchor", "block_hash"),
            ("anchor", "chain_id"),
        ],
    )
    def test_missing_key_is_refused_naming_it(self, part: str, key: str) -> None:
        data = self.good()
        del data[part][key]

        assert refused_at(data) == f"/{part}/{key}"

    def test_unknown_key_is_refused(self) -> None:
        data = self.good()
        data["batch"]["comment"] = "hi"

        assert refused_at(data) == "/batch/comment"

    @pytest.mark.parametrize(
        "bad",
        [
            "aa" * 32,
            "0x" + "aa" * 31,
            "0x" + "aa" * 33,
            "0x" + "zz" * 32,
            "0x" + "a" * 63,
        ],
    )
    def test_bad_hex_is_refused_naming_the_field(self, bad: str) -> None:
        data = self.good()
        data["document"]["root"] = bad

        assert refused_at(data) == "/document/root"

    def test_bad_proof_node_is_refused_naming_its_index(self) -> None:
        data = self.good()
        data["batch"]["proof"][1] = "0x1234"

        assert refused_at(data) == "/batch/proof/1"

    def test_bad_field_salt_is_refused_naming_its_index(self) -> None:
        data = self.good()
        data["document"]["fields"][2]["salt"] = data["document"]["fields"][2]["salt"][
            2:
        ]

        assert refused_at(data) == "/document/fields/2/salt"

    def test_lower_case_contract_address_is_refused(self) -> None:
        data = self.good()
        data["anchor"]["contract"] = CONTRACT.lower()

        assert refused_at(data) == "/anchor/contract"

    def test_duplicate_paths_are_refused(self) -> None:
        data = self.good()
        data["document"]["fields"].append(data["document"]["fields"][0])

        assert refused_at(data) == "/document/fields/3/path"

    def test_complete_bundle_missing_a_field_is_refused(self) -> None:
        data = bundle_to_dict(complete_bundle())
        data["document"]["fields"].pop()

        assert refused_at(data) == "/document/fields"

    def test_partial_field_without_proof_is_refused(self) -> None:
        data = self.good()
        del data["document"]["fields"][0]["proof"]

        assert refused_at(data) == "/document/fields/0/proof"

    def test_float_value_in_bundle_text_is_refused(self) -> None:
        text = dump_bundle(partial_bundle())
        data = json.loads(text)
        total = next(
            f for f in data["document"]["fields"] if f["path"] == "/total_minor"
        )
        broken = text.replace(
            f'"value": {total["value"]}', f'"value": {total["value"]}.0'
        )

        with pytest.raises(BundleFormatError) as caught:
            load_bundle(broken)

        assert caught.value.field.startswith("/document/fields/")

    def test_type_disagreeing_with_the_type_field_is_refused(self) -> None:
        data = bundle_to_dict(complete_bundle())
        data["document"]["type"] = "purchase_order"

        assert refused_at(data) == "/document/type"

    def test_bool_where_an_integer_belongs_is_refused(self) -> None:
        data = self.good()
        data["batch"]["size"] = True

        assert refused_at(data) == "/batch/size"

    def test_text_that_is_not_json_is_refused(self) -> None:
        with pytest.raises(BundleFormatError):
            load_bundle("{")
