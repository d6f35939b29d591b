"""Python and Solidity agree byte for byte on leaves, roots and proofs (RELIABILITY 30).

The frozen vectors in vectors/hashing_v1.json are checked against the Python code in
test_document.py and test_merkle.py; here the same vectors, and freshly sealed
documents, are checked against ReceivableHashing on an in-process EVM.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from registry import samples
from registry.canonical import scalar_json
from registry.chain import ChainClient
from registry.document import seal_document
from registry.merkle import batch_leaf, build_batch

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "hashing_v1.json").read_text()
)


def _b(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text.removeprefix("0x"))


@pytest.fixture(scope="module")
def harness() -> Any:
    client = ChainClient.in_process()
    address = client.deploy("ReceivableHashingHarness")
    return client.contract("ReceivableHashingHarness", address)


def test_solidity_tags_equal_the_frozen_vectors(harness: Any) -> None:
    assert harness.functions.FIELD_TAG().call() == _b(VECTORS["field_tag"])
    assert harness.functions.DOCUMENT_TAG().call() == _b(VECTORS["document_tag"])


def test_solidity_field_leaves_equal_the_frozen_vectors(harness: Any) -> None:
    for field in VECTORS["fields"]:
        leaf = harness.functions.fieldLeaf(
            _b(field["salt"]), field["path"], field["value_json"].encode()
        ).call()
        assert leaf == _b(field["leaf"]), field["path"]


def test_solidity_document_root_equals_the_frozen_vector(harness: Any) -> None:
    root = harness.functions.documentRoot(_b(VECTORS["field_root"])).call()

    assert root == _b(VECTORS["document_root"])


def test_solidity_accepts_every_python_batch_proof_of_the_vectors(harness: Any) -> None:
    batch = VECTORS["batch"]
    for root, leaf, proof in zip(
        batch["document_roots"], batch["leaves"], batch["proofs"], strict=True
    ):
        assert harness.functions.batchLeaf(_b(root)).call() == _b(leaf)
        assert harness.functions.verifyDocument(
            _b(root), _b(batch["root"]), [_b(p) for p in proof]
        ).call()


def test_solidity_verifies_fields_disclosed_by_python(harness: Any) -> None:
    document = seal_document(samples.invoice())
    for disclosed in document.disclose(document.paths):
        assert harness.functions.verifyField(
            document.root,
            disclosed.salt,
            disclosed.path,
            scalar_json(disclosed.value),
            list(disclosed.proof),
        ).call(), disclosed.path


def test_solidity_refuses_a_python_field_proof_for_another_value(harness: Any) -> None:
    document = seal_document(samples.invoice())
    disclosed = document.disclose(["/total_minor"])[0]
    forged = scalar_json(disclosed.value + 1)  # type: ignore[operator]

    ok = harness.functions.verifyField(
        document.root, disclosed.salt, "/total_minor", forged, list(disclosed.proof)
    ).call()

    assert not ok


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_solidity_accepts_python_batch_proofs_of_any_size(
    harness: Any, size: int
) -> None:
    roots = [
        seal_document(samples.invoice(number=f"INV-{i}")).root for i in range(size)
    ]
    batch = build_batch(roots)
    for root in roots:
        assert harness.functions.batchLeaf(root).call() == batch_leaf(root)
        assert harness.functions.verifyDocument(
            root, batch.root, batch.proof(root)
        ).call()
