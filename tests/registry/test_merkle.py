"""Merkle trees: OpenZeppelin's layout for the field tree and the batch tree."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.errors import ProofError, RecordError
from registry.hashing import keccak256
from registry.merkle import (
    MerkleTree,
    batch_leaf,
    build_batch,
    hash_pair,
    keccak_hasher,
    process_proof,
    proof_length_fits,
    verify_batch_proof,
    verify_proof,
)

REPO = Path(__file__).resolve().parents[2]
OZ_HELPER = Path(__file__).with_name("oz_tree.mjs")


def roots(count: int, label: str = "root") -> list[bytes]:
    return [keccak256(f"{label}-{i}".encode()) for i in range(count)]


def openzeppelin_tree(document_roots: list[bytes]) -> dict[str, object]:
    """Root and proofs from @openzeppelin/merkle-tree's StandardMerkleTree."""
    node = shutil.which("node")
    if node is None:
        pytest.skip(
            "node is not installed: cannot compare with @openzeppelin/merkle-tree"
        )
    if not (REPO / "node_modules" / "@openzeppelin" / "merkle-tree").is_dir():
        pytest.skip("node_modules/@openzeppelin/merkle-tree missing: run npm ci")
    payload = json.dumps({"roots": ["0x" + r.hex() for r in document_roots]})
    done = subprocess.run(
        [node, str(OZ_HELPER)],
        input=payload,
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        timeout=60,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_inner_loop_hasher_equals_registry_keccak() -> None:
    assert keccak_hasher(b"abc").digest() == keccak256(b"abc")


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 100])
def test_batch_tree_equals_openzeppelin_standard_merkle_tree(size: int) -> None:
    document_roots = roots(size)

    expected = openzeppelin_tree(document_roots)
    batch = build_batch(document_roots)

    assert "0x" + batch.root.hex() == expected["root"]
    ours = [["0x" + n.hex() for n in batch.proof(r)] for r in document_roots]
    assert ours == expected["proofs"]


def test_batch_leaf_is_double_keccak_of_the_root() -> None:
    root = roots(1)[0]

    assert batch_leaf(root) == keccak256(keccak256(root))


def test_single_document_batch_root_is_its_leaf_with_empty_proof() -> None:
    (root,) = roots(1)
    batch = build_batch([root])

    assert batch.root == batch_leaf(root)
    assert batch.proof(root) == []


@given(st.integers(min_value=1, max_value=64))
def test_every_batch_proof_verifies_and_fits_the_size(size: int) -> None:
    document_roots = roots(size)
    batch = build_batch(document_roots)

    for root in document_roots:
        proof = batch.proof(root)
        assert verify_batch_proof(batch.root, root, proof)
        assert proof_length_fits(len(proof), size)


def test_hash_pair_is_commutative_and_sorted() -> None:
    a, b = roots(2)

    assert hash_pair(a, b) == hash_pair(b, a) == keccak256(min(a, b) + max(a, b))


def test_inner_node_presented_as_document_root_fails() -> None:
    document_roots = roots(8)
    batch = build_batch(document_roots)
    inner = batch.tree.nodes[1]
    # the sibling of node 1 is node 2: a one-step "proof" that reaches the root
    assert process_proof(inner, [batch.tree.nodes[2]]) == batch.root

    assert not verify_batch_proof(batch.root, inner, [batch.tree.nodes[2]])


def test_proof_with_swapped_siblings_fails() -> None:
    document_roots = roots(8)
    batch = build_batch(document_roots)
    proof = batch.proof(document_roots[0])

    swapped = [proof[1], proof[0], *proof[2:]]

    assert not verify_batch_proof(batch.root, document_roots[0], swapped)


def test_duplicated_last_leaf_gives_a_different_root() -> None:
    leaves = roots(5, "leaf")
    tree = MerkleTree.from_leaves(leaves)
    last = tree.nodes[-1]

    with pytest.raises(RecordError):
        MerkleTree.from_leaves([*leaves, last])
    extended = MerkleTree.from_leaves([*leaves, keccak256(last)])
    assert extended.root != tree.root


def test_flipped_proof_byte_fails() -> None:
    leaves = roots(13, "leaf")
    tree = MerkleTree.from_leaves(leaves)
    proof = tree.proof(leaves[3])
    broken = bytearray(proof[2])
    broken[0] ^= 1

    assert verify_proof(tree.root, leaves[3], proof)
    assert not verify_proof(
        tree.root, leaves[3], [*proof[:2], bytes(broken), *proof[3:]]
    )


def test_unknown_leaf_has_no_proof() -> None:
    tree = MerkleTree.from_leaves(roots(3))

    with pytest.raises(ProofError):
        tree.proof(keccak256(b"stranger"))


@pytest.mark.parametrize("leaves", [[], [b"short"]])
def test_tree_refuses_no_leaves_and_short_leaves(leaves: list[bytes]) -> None:
    with pytest.raises(RecordError):
        MerkleTree.from_leaves(leaves)


def test_batch_refuses_repeated_document_roots() -> None:
    (root,) = roots(1)

    with pytest.raises(RecordError):
        build_batch([root, root])


@pytest.mark.parametrize(
    ("leaf_count", "lengths"),
    [(1, {0}), (2, {1}), (3, {1, 2}), (4, {2}), (5, {2, 3}), (8, {3}), (100, {6, 7})],
)
def test_proof_lengths_that_fit_a_tree(leaf_count: int, lengths: set[int]) -> None:
    fitting = {n for n in range(12) if proof_length_fits(n, leaf_count)}

    assert fitting == lengths
