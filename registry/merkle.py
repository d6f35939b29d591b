"""Merkle trees in OpenZeppelin's array layout: the field tree and the batch tree.

Invariants:
    * Both trees use the algorithm of OpenZeppelin's ``StandardMerkleTree``: leaves
      sorted ascending by hash; an array of ``2n - 1`` nodes with leaf ``i`` of the
      sorted list at index ``2n - 2 - i``; node ``k = hash_pair(node[2k+1],
      node[2k+2])`` with ``hash_pair(a, b) = keccak256(min(a, b) || max(a, b))``; a
      proof is the siblings from the leaf up to the root. There is no padding, so a
      duplicated last leaf is a different tree, never the same root.
    * The field tree (:class:`MerkleTree` over field leaves) takes its leaves as they
      are: every field leaf has a 128-byte domain-tagged preimage that a verifier always
      recomputes, so an inner node (64-byte preimage) can never stand as a leaf.
    * The batch tree is exactly ``StandardMerkleTree.of(roots, ["bytes32"])``: leaf =
      keccak256(keccak256(abi.encode(bytes32 root))) = keccak256(keccak256(root)), so
      its proofs verify with OpenZeppelin's ``MerkleProof.verify`` on chain.
    * Changing the pair hash, the ordering or the leaf encoding changes every root:
      anchored batches would no longer verify. See docs/hashing.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from registry.errors import ProofError, RecordError
from registry.hashing import keccak256
from registry.types import BatchRoot, DocumentRoot


class _Digest(Protocol):
    def digest(self) -> bytes: ...


class _FallbackKeccak:  # pragma: no cover - used only without safe-pysha3
    __slots__ = ("_value",)

    def __init__(self, data: bytes) -> None:
        self._value = keccak256(data)

    def digest(self) -> bytes:
        return self._value


def _pick_hasher() -> Callable[[bytes], _Digest]:
    try:
        from sha3 import keccak_256
    except ImportError:  # pragma: no cover
        return _FallbackKeccak
    if keccak_256(b"").digest() != keccak256(b""):  # pragma: no cover
        return _FallbackKeccak
    return keccak_256  # type: ignore[no-any-return]


keccak_hasher: Callable[[bytes], _Digest] = _pick_hasher()
"""``keccak_hasher(data).digest()`` equals ``keccak256(data)``; for inner loops.

NOTE: registry.hashing's backend (safe-pysha3) called without the wrapper's extra
Python frame: about 15% fewer microseconds per hash, which is most of a tree's cost.
"""


def hash_pair(a: bytes, b: bytes) -> bytes:
    """keccak256 of the two 32-byte nodes, the smaller first (commutative)."""
    return keccak256(a + b if a < b else b + a)


def process_proof(leaf: bytes, proof: Iterable[bytes]) -> bytes:
    """The root reached by hashing ``leaf`` up through the siblings in ``proof``."""
    node = leaf
    hasher = keccak_hasher
    for sibling in proof:
        node = hasher(node + sibling if node < sibling else sibling + node).digest()
    return node


def verify_proof(root: bytes, leaf: bytes, proof: Iterable[bytes]) -> bool:
    """Whether ``proof`` leads from ``leaf`` to ``root``."""
    return process_proof(leaf, proof) == root


def proof_length_fits(proof_length: int, leaf_count: int) -> bool:
    """Whether a tree of ``leaf_count`` leaves has a leaf at depth ``proof_length``.

    In the array layout the leaves of an ``n``-leaf tree sit at depths between
    ``floor(log2(n))`` and ``floor(log2(2n - 1))``.
    """
    if leaf_count < 1:
        return False
    shallowest = leaf_count.bit_length() - 1
    deepest = (2 * leaf_count - 1).bit_length() - 1
    return shallowest <= proof_length <= deepest


@dataclass(frozen=True, slots=True)
class MerkleTree:
    """A tree over already-hashed 32-byte leaves, in OpenZeppelin's array layout.

    Attributes:
        nodes: the ``2n - 1`` nodes; ``nodes[0]`` is the root.
        leaves: the leaves in the order given.
    """

    nodes: tuple[bytes, ...]
    leaves: tuple[bytes, ...]
    _index: dict[bytes, int] = field(repr=False, compare=False)

    @classmethod
    def from_leaves(cls, leaves: Iterable[bytes]) -> MerkleTree:
        """Build the tree; leaves are sorted by value first.

        Raises:
            RecordError: no leaves, a leaf that is not 32 bytes, or a repeated leaf.
        """
        given = tuple(leaves)
        if not given:
            raise RecordError("", "a Merkle tree needs at least one leaf")
        if any(len(leaf) != 32 for leaf in given):
            raise RecordError("", "a Merkle tree's leaves must be 32 bytes")
        ordered = sorted(given)
        if len(set(ordered)) != len(ordered):
            raise RecordError("", "a Merkle tree's leaves must be distinct")
        inner = len(ordered) - 1
        nodes: list[bytes] = [b""] * inner
        nodes.extend(reversed(ordered))
        hasher = keccak_hasher
        # NOTE: the array is a heap, so one heap level of inner nodes depends only on
        # the level below it; hashing a level per comprehension is the same algorithm
        # as OpenZeppelin's node-by-node loop, with less interpreter overhead.
        for depth in range(inner.bit_length() - 1, -1, -1):
            first, last = (1 << depth) - 1, min((2 << depth) - 2, inner - 1)
            lefts = nodes[2 * first + 1 : 2 * last + 2 : 2]
            rights = nodes[2 * first + 2 : 2 * last + 3 : 2]
            nodes[first : last + 1] = [
                hasher(a + b if a < b else b + a).digest()
                for a, b in zip(lefts, rights, strict=True)
            ]
        return cls(tuple(nodes), given, {})

    @property
    def root(self) -> bytes:
        """The root node."""
        return self.nodes[0]

    def __len__(self) -> int:
        return len(self.leaves)

    def __contains__(self, leaf: object) -> bool:
        return leaf in self.nodes[len(self.leaves) - 1 :]

    def proof(self, leaf: bytes) -> list[bytes]:
        """The sibling nodes from ``leaf`` up to the root.

        Raises:
            ProofError: ``leaf`` is not a leaf of this tree.
        """
        if not self._index:
            count = len(self.leaves)
            self._index.update(
                (node, i) for i, node in enumerate(self.nodes[count - 1 :], count - 1)
            )
        position = self._index.get(leaf)
        if position is None:
            raise ProofError(f"0x{leaf.hex()} is not a leaf of this tree")
        return self.proof_at(position)

    def proof_at(self, position: int) -> list[bytes]:
        """The sibling nodes from the node at array ``position`` up to the root."""
        nodes = self.nodes
        proof = []
        while position > 0:
            proof.append(nodes[position + 1 if position % 2 else position - 1])
            position = (position - 1) // 2
        return proof


def batch_leaf(document_root: bytes) -> bytes:
    """The batch tree leaf of a document root: keccak256(keccak256(root)).

    This is OpenZeppelin's ``standardLeafHash(["bytes32"], [root])``: ``abi.encode``
    of one ``bytes32`` is the 32 bytes themselves.
    """
    return keccak_hasher(keccak_hasher(document_root).digest()).digest()


@dataclass(frozen=True, slots=True)
class BatchTree:
    """A batch of document roots under one anchored root.

    Attributes:
        document_roots: the roots in the order given.
        tree: the OpenZeppelin tree over their batch leaves.
    """

    document_roots: tuple[DocumentRoot, ...]
    tree: MerkleTree

    @property
    def root(self) -> BatchRoot:
        """The batch root, the value anchored on chain."""
        return BatchRoot(self.tree.root)

    @property
    def size(self) -> int:
        """How many document roots the batch holds."""
        return len(self.document_roots)

    def proof(self, document_root: bytes) -> list[bytes]:
        """The batch proof of ``document_root``, for ``MerkleProof.verify``.

        Raises:
            ProofError: the root is not in this batch.
        """
        return self.tree.proof(batch_leaf(document_root))


def build_batch(document_roots: Sequence[bytes]) -> BatchTree:
    """Build the batch tree over document roots, as StandardMerkleTree would.

    Args:
        document_roots: one or more distinct 32-byte document roots.

    Returns:
        The batch tree; ``root`` equals
        ``StandardMerkleTree.of(roots.map(r => [r]), ["bytes32"]).root``.

    Raises:
        RecordError: no roots, a root that is not 32 bytes, or a repeated root.
    """
    for i, root in enumerate(document_roots):
        if len(root) != 32:
            raise RecordError(f"/{i}", "a document root must be 32 bytes")
    roots = tuple(DocumentRoot(bytes(r)) for r in document_roots)
    return BatchTree(roots, MerkleTree.from_leaves(batch_leaf(r) for r in roots))


def verify_batch_proof(
    batch_root: bytes, document_root: bytes, proof: Iterable[bytes]
) -> bool:
    """Whether ``proof`` places ``document_root`` under ``batch_root``."""
    return process_proof(batch_leaf(document_root), proof) == batch_root
