"""The verifier: offline hash checks, then the anchor against a (fake) chain."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.anchors import AnchorRecord
from registry.bundle import (
    BundleField,
    EvidenceBundle,
    bundle_to_dict,
    dump_bundle,
    make_bundle,
)
from registry.hashing import keccak256
from registry.records import parse_record
from registry.verify import Verdict, verify_bundle, verify_offline
from tests.registry.test_bundle import (
    ANCHOR,
    CONTRACT,
    complete_bundle,
    partial_bundle,
    sealed_batch,
)
from tests.registry.test_records import invoice_data

OFFLINE_CHECKS = ["bundle_format", "fields", "document_root", "batch_proof"]
CHAIN_CHECKS = ["chain_id", "contract_code", "batch_anchored", "anchor_position"]
CHAIN_CHECKS += ["block_hash", "confirmations"]


@dataclass
class FakeChain:
    """An AnchorLookup answering from dicts."""

    chain: int = 31337
    code: set[str] = field(default_factory=lambda: {CONTRACT})
    anchors: dict[tuple[str, bytes], AnchorRecord] = field(default_factory=dict)
    blocks: dict[int, bytes] = field(default_factory=dict)
    latest: int = 12

    def chain_id(self) -> int:
        return self.chain

    def has_code(self, contract: str) -> bool:
        return contract in self.code

    def anchor_of(self, contract: str, batch_root: bytes) -> AnchorRecord | None:
        return self.anchors.get((contract, batch_root))

    def block_hash(self, block_number: int) -> bytes | None:
        return self.blocks.get(block_number)

    def latest_block_number(self) -> int:
        return self.latest


def chain_for(bundle: EvidenceBundle) -> FakeChain:
    record = AnchorRecord(
        batch_id=1, block_number=7, anchored_at=1_700_000_000, document_count=5
    )
    return FakeChain(
        anchors={(CONTRACT, bundle.batch.root): record},
        blocks={7: ANCHOR.block_hash},
    )


def names(verdict: Verdict) -> list[str]:
    return [check.name for check in verdict.checks]


def failed_at(verdict: Verdict) -> str:
    assert not verdict.valid
    assert verdict.failure is not None
    assert verdict.checks[-1] == verdict.failure, (
        "checks must stop at the first failure"
    )
    return verdict.failure.name


def with_fields(bundle: EvidenceBundle, fields: list[BundleField]) -> EvidenceBundle:
    return replace(bundle, document=replace(bundle.document, fields=tuple(fields)))


def flip(data: bytes, index: int = 0) -> bytes:
    changed = bytearray(data)
    changed[index % len(changed)] ^= 1
    return bytes(changed)


class TestOffline:
    def test_complete_bundle_verifies_offline(self) -> None:
        verdict = verify_offline(complete_bundle())

        assert verdict.valid, verdict.reason
        assert names(verdict) == OFFLINE_CHECKS
        assert verdict.failure is None
        assert verdict.scope == "offline"

    def test_partial_bundle_checks_each_disclosed_field_then_the_root(self) -> None:
        verdict = verify_offline(partial_bundle())

        assert verdict.valid, verdict.reason
        assert names(verdict) == [
            "bundle_format",
            "field /currency",
            "field /due_on",
            "field /total_minor",
            "document_root",
            "batch_proof",
        ]

    def test_bundle_as_text_and_as_dict_verify_alike(self) -> None:
        bundle = partial_bundle()

        assert verify_offline(dump_bundle(bundle)).valid
        assert verify_offline(bundle_to_dict(bundle)).valid

    def test_root_level_bundle_without_fields_proves_batch_membership(self) -> None:
        bundle = with_fields(partial_bundle(), [])

        verdict = verify_offline(bundle)

        assert verdict.valid
        assert names(verdict) == ["bundle_format", "document_root", "batch_proof"]

    def test_malformed_bundle_fails_at_format(self) -> None:
        data = bundle_to_dict(partial_bundle())
        data["version"] = 2

        verdict = verify_offline(data)

        assert failed_at(verdict) == "bundle_format"
        assert "/version" in verdict.reason

    def test_one_flipped_salt_byte_fails_with_no_partial_credit(self) -> None:
        bundle = partial_bundle()
        fields = list(bundle.document.fields)
        fields[1] = replace(fields[1], salt=flip(fields[1].salt, 17))

        verdict = verify_offline(with_fields(bundle, fields))

        assert failed_at(verdict) == "field /due_on"
        assert [c.ok for c in verdict.checks] == [True, True, False]

    def test_one_flipped_value_fails_in_a_complete_bundle(self) -> None:
        bundle = complete_bundle()
        fields = [
            replace(f, value=f.value + 1) if f.path == "/tax_minor" else f  # type: ignore[operator]
            for f in bundle.document.fields
        ]

        assert failed_at(verify_offline(with_fields(bundle, fields))) == "document_root"

    def test_flipped_document_root_fails(self) -> None:
        bundle = complete_bundle()
        broken = replace(bundle.document, root=flip(bundle.document.root, 5))

        verdict = verify_offline(replace(bundle, document=broken))

        assert failed_at(verdict) == "document_root"

    def test_flipped_batch_proof_byte_fails(self) -> None:
        bundle = complete_bundle()
        proof = list(bundle.batch.proof)
        proof[0] = flip(proof[0], 31)

        verdict = verify_offline(
            replace(bundle, batch=replace(bundle.batch, proof=tuple(proof)))
        )

        assert failed_at(verdict) == "batch_proof"

    def test_swapped_batch_proof_siblings_fail(self) -> None:
        bundle = complete_bundle()
        proof = list(bundle.batch.proof)
        proof[0], proof[1] = proof[1], proof[0]

        verdict = verify_offline(
            replace(bundle, batch=replace(bundle.batch, proof=tuple(proof)))
        )

        assert failed_at(verdict) == "batch_proof"

    def test_swapped_field_proof_siblings_fail(self) -> None:
        bundle = partial_bundle()
        fields = list(bundle.document.fields)
        proof = list(fields[0].proof or ())
        proof[0], proof[1] = proof[1], proof[0]
        fields[0] = replace(fields[0], proof=tuple(proof))

        assert (
            failed_at(verify_offline(with_fields(bundle, fields))) == "field /currency"
        )

    def test_duplicated_last_field_fails(self) -> None:
        data = bundle_to_dict(complete_bundle())
        data["document"]["fields"].append(copy.deepcopy(data["document"]["fields"][-1]))
        data["document"]["field_count"] += 1

        assert failed_at(verify_offline(data)) == "bundle_format"

    def test_extra_invented_field_fails(self) -> None:
        bundle = complete_bundle()
        extra = BundleField("/zz_note", "paid", keccak256(b"salt"), None)
        fields = [*bundle.document.fields, extra]
        document = replace(
            bundle.document, fields=tuple(fields), field_count=len(fields)
        )

        verdict = verify_offline(replace(bundle, document=document))

        assert failed_at(verdict) == "document_root"

    def test_inner_batch_node_presented_as_document_root_fails(self) -> None:
        documents, batch = sealed_batch(8)
        bundle = make_bundle(documents[0], batch)
        inner = replace(
            bundle.document, root=batch.tree.nodes[1], fields=(), complete=False
        )
        short = replace(bundle.batch, proof=(batch.tree.nodes[2],))

        verdict = verify_offline(replace(bundle, document=inner, batch=short))

        assert failed_at(verdict) == "batch_proof"

    def test_inner_field_node_presented_with_a_short_proof_fails(self) -> None:
        documents, batch = sealed_batch()
        document = documents[0]
        bundle = make_bundle(document, batch, disclose=["/total_minor"])
        (total,) = bundle.document.fields
        short = replace(total, proof=(document.tree.nodes[2],))

        verdict = verify_offline(with_fields(bundle, [short]))

        assert failed_at(verdict) == "field /total_minor"

    def test_proof_too_long_for_the_stated_size_fails(self) -> None:
        bundle = complete_bundle()
        padded = replace(bundle.batch, proof=(*bundle.batch.proof, bytes(32)))

        assert failed_at(verify_offline(replace(bundle, batch=padded))) == "batch_proof"

    @settings(max_examples=40, deadline=None)
    @given(st.data())
    def test_any_single_flipped_byte_in_the_bundle_fails(
        self, data: st.DataObject
    ) -> None:
        bundle = partial_bundle()
        fields = list(bundle.document.fields)
        target = data.draw(st.sampled_from(["salt", "proof", "root", "batch"]))
        at = data.draw(st.integers(min_value=0, max_value=1000))
        if target == "salt":
            i = at % len(fields)
            fields[i] = replace(fields[i], salt=flip(fields[i].salt, at))
            bundle = with_fields(bundle, fields)
        elif target == "proof":
            i = at % len(fields)
            proof = list(fields[i].proof or ())
            proof[at % len(proof)] = flip(proof[at % len(proof)], at)
            fields[i] = replace(fields[i], proof=tuple(proof))
            bundle = with_fields(bundle, fields)
        elif target == "root":
            bundle = replace(
                bundle, batch=replace(bundle.batch, root=flip(bundle.batch.root, at))
            )
        else:
            proof = list(bundle.batch.proof)
            proof[at % len(proof)] = flip(proof[at % len(proof)], at)
            bundle = replace(bundle, batch=replace(bundle.batch, proof=tuple(proof)))

        assert not verify_offline(bundle).valid


class TestDocumentSupplied:
    def test_the_same_document_sent_differently_verifies(self) -> None:
        documents, batch = sealed_batch()
        bundle = make_bundle(documents[0], batch)
        sent = invoice_data(number="INV-0", total_minor=4403, tax="7.03")
        del sent["total"]
        reordered = dict(reversed(list(sent.items())))

        verdict = verify_offline(bundle, reordered)

        assert verdict.valid, verdict.reason
        assert "document_content" in names(verdict)

    def test_a_parsed_record_can_be_supplied(self) -> None:
        documents, batch = sealed_batch()
        bundle = make_bundle(documents[0], batch, disclose=["/total_minor"])

        assert verify_offline(bundle, parse_record(invoice_data(number="INV-0"))).valid

    def test_document_differing_by_one_cent_fails(self) -> None:
        documents, batch = sealed_batch()
        bundle = make_bundle(documents[0], batch)
        other = invoice_data(number="INV-0", tax="7.04", total="44.04")

        assert failed_at(verify_offline(bundle, other)) == "document_content"

    def test_another_document_fails_against_disclosed_fields(self) -> None:
        documents, batch = sealed_batch()
        bundle = make_bundle(documents[0], batch, disclose=["/number"])

        verdict = verify_offline(bundle, invoice_data(number="INV-1"))

        assert failed_at(verdict) == "document_content"

    def test_document_with_nothing_disclosed_cannot_be_tied_to_the_root(self) -> None:
        bundle = with_fields(partial_bundle(), [])

        assert failed_at(verify_offline(bundle, invoice_data())) == "document_content"

    def test_invalid_document_fails(self) -> None:
        verdict = verify_offline(complete_bundle(), invoice_data(currency="eur"))

        assert failed_at(verdict) == "document_content"


class TestOnChain:
    def test_anchored_bundle_verifies_against_the_chain(self) -> None:
        bundle = partial_bundle()

        verdict = verify_bundle(bundle, chain_for(bundle), min_confirmations=6)

        assert verdict.valid, verdict.reason
        assert verdict.scope == "chain"
        assert names(verdict)[-6:] == CHAIN_CHECKS

    def test_without_a_lookup_only_offline_checks_run(self) -> None:
        verdict = verify_bundle(partial_bundle(), None)

        assert verdict.valid
        assert verdict.scope == "offline"

    def test_offline_failure_stops_before_asking_the_chain(self) -> None:
        bundle = complete_bundle()
        broken = replace(
            bundle, batch=replace(bundle.batch, root=flip(bundle.batch.root))
        )

        verdict = verify_bundle(broken, chain_for(bundle))

        assert failed_at(verdict) == "batch_proof"

    def test_unanchored_bundle_fails_on_chain(self) -> None:
        bundle = replace(partial_bundle(), anchor=None)

        assert failed_at(verify_bundle(bundle, chain_for(bundle))) == "anchor"

    @pytest.mark.parametrize(
        ("breakage", "check"),
        [
            ({"chain": 1}, "chain_id"),
            ({"code": set()}, "contract_code"),
            ({"anchors": {}}, "batch_anchored"),
            ({"blocks": {7: bytes(32)}}, "block_hash"),
            ({"blocks": {}}, "block_hash"),
            ({"latest": 8}, "confirmations"),
        ],
    )
    def test_each_chain_disagreement_fails_its_own_check(
        self, breakage: dict[str, Any], check: str
    ) -> None:
        bundle = partial_bundle()
        chain = replace(chain_for(bundle), **breakage)

        assert failed_at(verify_bundle(bundle, chain, min_confirmations=6)) == check

    @pytest.mark.parametrize(
        "record",
        [
            AnchorRecord(batch_id=2, block_number=7, anchored_at=0, document_count=5),
            AnchorRecord(batch_id=1, block_number=8, anchored_at=0, document_count=5),
            AnchorRecord(batch_id=1, block_number=7, anchored_at=0, document_count=6),
        ],
    )
    def test_anchor_at_another_position_fails(self, record: AnchorRecord) -> None:
        bundle = partial_bundle()
        chain = chain_for(bundle)
        chain.anchors[(CONTRACT, bundle.batch.root)] = record

        assert failed_at(verify_bundle(bundle, chain)) == "anchor_position"

    def test_batch_anchored_by_another_contract_fails(self) -> None:
        bundle = partial_bundle()
        chain = chain_for(bundle)
        other = "0x" + "12" * 20
        chain.code.add(other)
        chain.anchors = {(other, bundle.batch.root): chain.anchors.popitem()[1]}

        assert failed_at(verify_bundle(bundle, chain)) == "batch_anchored"

    def test_exactly_enough_confirmations_is_accepted(self) -> None:
        bundle = partial_bundle()
        chain = replace(chain_for(bundle), latest=12)

        assert verify_bundle(bundle, chain, min_confirmations=6).valid
        assert not verify_bundle(bundle, chain, min_confirmations=7).valid

    def test_reorged_block_fails_even_when_the_root_is_anchored_again(self) -> None:
        bundle = partial_bundle()
        chain = chain_for(bundle)
        chain.blocks[7] = keccak256(b"another block after a reorg")

        assert failed_at(verify_bundle(bundle, chain)) == "block_hash"
