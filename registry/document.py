"""Salted documents: field leaves, field tree, document root, selective disclosure.

Invariants (hashing scheme version 1, docs/hashing.md):
    * ``FIELD_TAG = keccak256(b"receivables.field.v1")`` and
      ``DOCUMENT_TAG = keccak256(b"receivables.document.v1")``.
    * field leaf = keccak256(FIELD_TAG || salt || keccak256(utf8(path)) ||
      keccak256(rfc8785(value))): a fixed 128-byte preimage, the same as Solidity's
      ``keccak256(abi.encodePacked(FIELD_TAG, salt, keccak256(bytes(path)),
      keccak256(valueJson)))``. Each field has its own 32-byte salt, so a low-entropy
      value (an amount, a date) cannot be guessed from its leaf.
    * The field tree is :class:`registry.merkle.MerkleTree` over the field leaves as
      they are; document root = keccak256(DOCUMENT_TAG || field tree root).
    * Changing a tag, the leaf layout, the flattening or the canonical form changes
      every document root, so documents sealed before no longer verify: introduce
      ``.v2`` tags instead, and keep the v1 code to verify old bundles.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from registry.canonical import JsonValue, flatten, scalar_json
from registry.errors import ProofError, RecordError
from registry.hashing import keccak256
from registry.merkle import MerkleTree, keccak_hasher, process_proof
from registry.records import Record, parse_record, record_to_canonical_dict
from registry.types import DocumentRoot

HASHING_VERSION = 1
FIELD_TAG = keccak256(b"receivables.field.v1")
DOCUMENT_TAG = keccak256(b"receivables.document.v1")
SALT_LENGTH = 32


_EMPTY_CONTAINER_HASHES = {dict: keccak256(b"{}"), list: keccak256(b"[]")}


@lru_cache(maxsize=1 << 16)
def path_hash(path: str) -> bytes:
    """keccak256 of the UTF-8 bytes of a JSON Pointer (cached: paths repeat a lot)."""
    return keccak256(path.encode())


@lru_cache(maxsize=1 << 14, typed=True)
def _scalar_hash(value: str | int | bool | None) -> bytes:
    # NOTE: cached because values repeat across documents (type, version, currency,
    # parties, prices); typed=True keeps True and 1 apart. The cache lives only in
    # this process's memory, where the documents already are.
    return keccak_hasher(scalar_json(value)).digest()


def value_hash(value: JsonValue) -> bytes:
    """keccak256(rfc8785(value)) of a field value: a scalar, ``{}`` or ``[]``.

    Raises:
        RecordError: anything else (floats, unsafe integers, non-empty containers).
    """
    kind = type(value)
    if kind is dict or kind is list:
        if value:
            raise RecordError("", f"a non-empty {kind.__name__} is not a field value")
        return _EMPTY_CONTAINER_HASHES[kind]
    return _scalar_hash(value)  # type: ignore[arg-type]


def field_leaf(path: str, value: JsonValue, salt: bytes) -> bytes:
    """The leaf of one field.

    Args:
        path: the field's JSON Pointer, such as ``"/lines/0/amount_minor"``.
        value: the field's value: a scalar, ``{}`` or ``[]``.
        salt: the field's 32-byte salt.

    Returns:
        keccak256(FIELD_TAG || salt || keccak256(path) || keccak256(rfc8785(value))).

    Raises:
        RecordError: the salt is not 32 bytes or the value is not a field value.
    """
    if len(salt) != SALT_LENGTH:
        raise RecordError(path, "salt must be 32 bytes")
    try:
        hashed_value = value_hash(value)
    except RecordError as err:
        raise RecordError(path, err.message) from err
    return keccak256(FIELD_TAG + salt + path_hash(path) + hashed_value)


def document_root_of(field_root: bytes) -> DocumentRoot:
    """keccak256(DOCUMENT_TAG || field tree root)."""
    return DocumentRoot(keccak256(DOCUMENT_TAG + field_root))


@dataclass(frozen=True, slots=True)
class DisclosedField:
    """One field revealed with what is needed to check it against a document root."""

    path: str
    value: JsonValue
    salt: bytes
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class SaltedDocument:
    """A record flattened into salted fields, with its field tree and document root.

    Attributes:
        record: the canonical record dict that was sealed.
        paths, values, salts, leaves: one entry per field, in flattening order.
        tree: the field tree over the leaves.
        root: the document root, the value batched and anchored.
    """

    record: Mapping[str, Any]
    paths: tuple[str, ...]
    values: tuple[JsonValue, ...]
    salts: tuple[bytes, ...]
    leaves: tuple[bytes, ...]
    tree: MerkleTree
    root: DocumentRoot
    _position: dict[str, int] = field(repr=False, compare=False)

    @property
    def field_count(self) -> int:
        """How many fields (leaves) the document has."""
        return len(self.paths)

    @property
    def salt_map(self) -> dict[str, bytes]:
        """Path -> salt, the form :func:`seal_document` accepts to reseal alike."""
        return dict(zip(self.paths, self.salts, strict=True))

    def field_proof(self, path: str) -> list[bytes]:
        """The field tree proof of the field at ``path``.

        Raises:
            ProofError: the document has no field at ``path``.
        """
        return self.tree.proof(self.leaves[self._locate(path)])

    def disclose(self, paths: Iterable[str]) -> list[DisclosedField]:
        """Reveal some fields, each with its value, salt and proof.

        Args:
            paths: JSON Pointers of the fields to reveal.

        Returns:
            One :class:`DisclosedField` per distinct path, sorted by path.

        Raises:
            ProofError: the document has no field at one of the paths.
        """
        disclosed = []
        for path in sorted(set(paths)):
            i = self._locate(path)
            proof = tuple(self.tree.proof(self.leaves[i]))
            disclosed.append(DisclosedField(path, self.values[i], self.salts[i], proof))
        return disclosed

    def _locate(self, path: str) -> int:
        position = self._position.get(path)
        if position is None:
            raise ProofError(f"the document has no field at {path!r}")
        return position


def seal_document(
    record: Record | Mapping[str, Any], salts: Mapping[str, bytes] | None = None
) -> SaltedDocument:
    """Validate, canonicalise, salt and hash a record.

    Args:
        record: a parsed record, or raw record data (validated with
            :func:`~registry.records.parse_record`).
        salts: path -> 32-byte salt for every field, to reproduce a document; None
            draws a fresh random salt per field.

    Returns:
        The sealed document.

    Raises:
        RecordValidationError: raw data that is not a valid record.
        RecordError: ``salts`` misses a path, names an unknown path, or is not 32 bytes.
    """
    parsed = parse_record(record) if isinstance(record, Mapping) else record
    return seal_canonical(record_to_canonical_dict(parsed), salts)


def seal_canonical(
    data: Mapping[str, Any], salts: Mapping[str, bytes] | None = None
) -> SaltedDocument:
    """Salt and hash an already-normalised JSON object (no record validation).

    This is the fast path behind :func:`seal_document`, for data that came out of
    :func:`~registry.records.record_to_canonical_dict`.

    Args:
        data: a JSON object of str, int, bool, None, lists and dicts.
        salts: as for :func:`seal_document`.

    Returns:
        The sealed document.

    Raises:
        RecordError: a value that is not JSON, or bad ``salts``.
    """
    fields = flatten(data)
    paths = tuple(path for path, _ in fields)
    values = tuple(value for _, value in fields)
    salt_list = _salts_for(paths, salts)

    tag, hasher, hash_path, hash_value = FIELD_TAG, keccak_hasher, path_hash, value_hash
    try:
        leaves = tuple(
            hasher(tag + salt + hash_path(path) + hash_value(value)).digest()
            for path, value, salt in zip(paths, values, salt_list, strict=True)
        )
    except (RecordError, TypeError):
        for path, value, salt in zip(paths, values, salt_list, strict=True):
            field_leaf(path, value, salt)  # re-raise naming the field
        raise
    tree = MerkleTree.from_leaves(leaves)
    position = {path: i for i, path in enumerate(paths)}
    root = document_root_of(tree.root)
    return SaltedDocument(data, paths, values, salt_list, leaves, tree, root, position)


def _salts_for(
    paths: Sequence[str], salts: Mapping[str, bytes] | None
) -> tuple[bytes, ...]:
    if salts is None:
        blob = secrets.token_bytes(SALT_LENGTH * len(paths))
        return tuple(
            blob[i : i + SALT_LENGTH] for i in range(0, len(blob), SALT_LENGTH)
        )
    chosen = []
    for path in paths:
        salt = salts.get(path)
        if salt is None:
            raise RecordError(path, "no salt given for this field")
        if not isinstance(salt, bytes) or len(salt) != SALT_LENGTH:
            raise RecordError(path, "salt must be 32 bytes")
        chosen.append(salt)
    if len(salts) != len(paths):
        extra = sorted(set(salts) - set(paths))
        raise RecordError(extra[0], "salt given for a field the record does not have")
    return tuple(chosen)


def root_from_fields(
    fields: Iterable[tuple[str, JsonValue, bytes]],
) -> DocumentRoot:
    """Recompute a document root from all of its fields.

    Args:
        fields: every ``(path, value, salt)`` of the document, in any order.

    Returns:
        The document root.

    Raises:
        RecordError: no fields, a repeated path, or a bad value or salt.
    """
    seen: set[str] = set()
    leaves = []
    for path, value, salt in fields:
        if path in seen:
            raise RecordError(path, "field appears more than once")
        seen.add(path)
        leaves.append(field_leaf(path, value, salt))
    return document_root_of(MerkleTree.from_leaves(leaves).root)


def verify_field(
    document_root: bytes,
    path: str,
    value: JsonValue,
    salt: bytes,
    proof: Sequence[bytes],
) -> bool:
    """Whether a disclosed field belongs to the document with ``document_root``.

    Args:
        document_root: the 32-byte document root.
        path: the field's JSON Pointer.
        value: the field's value as disclosed.
        salt: the field's 32-byte salt.
        proof: the field tree proof.

    Returns:
        True only when the recomputed leaf, walked up the proof, gives the root.
    """
    try:
        leaf = field_leaf(path, value, salt)
    except RecordError:
        return False
    return document_root_of(process_proof(leaf, proof)) == document_root
