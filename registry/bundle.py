"""Evidence bundles: everything needed to check a document against the chain.

Invariants (format ``receivables-evidence-bundle``, version 1; docs/bundle.md):
    * A bundle carries the document root, some or all of its fields with their salts
      (and field proofs when not all fields are present), the batch root with the
      document's batch proof, and optionally where the batch root was anchored.
    * Parsing is strict: unknown keys, a wrong format or version, missing keys, hex
      without ``0x`` or of the wrong length, floats, repeated paths and an address
      that is not EIP-55 checksummed are refused with a
      :class:`~registry.errors.BundleFormatError` naming the JSON Pointer.
    * Serialising is deterministic (sorted keys, 2-space indent, fields sorted by
      path), so the same evidence always gives the same bytes.
    * A new key or a changed meaning needs a new ``version``; version 1 readers refuse
      anything they do not understand rather than guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.address import is_checksum_address

from registry.canonical import JsonValue, loads_strict, scalar_json
from registry.document import SaltedDocument
from registry.errors import BundleFormatError, RecordError
from registry.merkle import BatchTree
from registry.types import BatchRoot, DocumentRoot, hex_to_bytes, to_hex

BUNDLE_FORMAT = "receivables-evidence-bundle"
BUNDLE_VERSION = 1
DOCUMENT_TYPES = frozenset(
    {"purchase_order", "delivery_note", "invoice", "credit_note"}
)
MAX_PROOF_LENGTH = 64
MAX_FIELDS = 1_000_000
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")
_BYTES32_RUN = re.compile(r"(?:0x[0-9a-fA-F]{64})*")


@dataclass(frozen=True, slots=True)
class BundleField:
    """A disclosed field; ``proof`` is None only in a complete bundle."""

    path: str
    value: JsonValue
    salt: bytes
    proof: tuple[bytes, ...] | None


@dataclass(frozen=True, slots=True)
class BundleDocument:
    """The document part: its root and the fields shown (all when ``complete``)."""

    type: str
    root: DocumentRoot
    field_count: int
    complete: bool
    fields: tuple[BundleField, ...]


@dataclass(frozen=True, slots=True)
class BundleBatch:
    """The batch part: the anchored root, how many documents, the document's proof."""

    root: BatchRoot
    size: int
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class BundleAnchor:
    """Where the batch root was anchored, as the anchorer recorded it."""

    chain_id: int
    contract: str
    transaction_hash: bytes
    block_number: int
    block_hash: bytes
    batch_id: int


@dataclass(frozen=True, slots=True)
class EvidenceBundle:
    """A parsed evidence bundle (format version 1)."""

    document: BundleDocument
    batch: BundleBatch
    anchor: BundleAnchor | None = None


def make_bundle(
    document: SaltedDocument,
    batch: BatchTree,
    anchor: BundleAnchor | None = None,
    *,
    disclose: Iterable[str] | None = None,
) -> EvidenceBundle:
    """Assemble the bundle of a sealed document in a batch.

    Args:
        document: the sealed document.
        batch: the batch tree holding the document's root.
        anchor: where the batch was anchored, or None for an unanchored bundle.
        disclose: paths to reveal with proofs; None reveals every field (a complete
            bundle, whose root is recomputed from all fields, so no field proofs).

    Returns:
        The bundle.

    Raises:
        ProofError: a path the document lacks, or a document not in the batch.
    """
    batch_part = BundleBatch(batch.root, batch.size, tuple(batch.proof(document.root)))
    if disclose is None:
        fields = tuple(
            BundleField(path, value, salt, None)
            for path, value, salt in sorted(
                zip(document.paths, document.values, document.salts, strict=True)
            )
        )
    else:
        fields = tuple(
            BundleField(f.path, f.value, f.salt, f.proof)
            for f in document.disclose(disclose)
        )
    kind = document.record.get("type")
    doc_part = BundleDocument(
        type=kind if isinstance(kind, str) else "",
        root=document.root,
        field_count=document.field_count,
        complete=disclose is None,
        fields=fields,
    )
    return EvidenceBundle(doc_part, batch_part, anchor)


def bundle_to_dict(bundle: EvidenceBundle) -> dict[str, Any]:
    """The JSON-ready form of a bundle (see docs/bundle.md)."""
    doc = bundle.document
    fields = []
    for f in sorted(doc.fields, key=lambda f: f.path):
        item: dict[str, Any] = {
            "path": f.path,
            "value": f.value,
            "salt": to_hex(f.salt),
        }
        if f.proof is not None:
            item["proof"] = [to_hex(node) for node in f.proof]
        fields.append(item)
    anchor = bundle.anchor
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "document": {
            "type": doc.type,
            "root": to_hex(doc.root),
            "field_count": doc.field_count,
            "complete": doc.complete,
            "fields": fields,
        },
        "batch": {
            "root": to_hex(bundle.batch.root),
            "size": bundle.batch.size,
            "proof": [to_hex(node) for node in bundle.batch.proof],
        },
        "anchor": None
        if anchor is None
        else {
            "chain_id": anchor.chain_id,
            "contract": anchor.contract,
            "transaction_hash": to_hex(anchor.transaction_hash),
            "block_number": anchor.block_number,
            "block_hash": to_hex(anchor.block_hash),
            "batch_id": anchor.batch_id,
        },
    }


def dump_bundle(bundle: EvidenceBundle) -> str:
    """Serialise deterministically: sorted keys, 2-space indent, UTF-8 text, newline."""
    text = json.dumps(
        bundle_to_dict(bundle), sort_keys=True, indent=2, ensure_ascii=False
    )
    return text + "\n"


def load_bundle(text: str | bytes) -> EvidenceBundle:
    """Parse bundle JSON text strictly (no floats, no repeated keys).

    Raises:
        BundleFormatError: the text is not JSON or not a well-formed bundle.
    """
    try:
        data = loads_strict(text)
    except ValueError as err:
        raise BundleFormatError("", f"not valid JSON: {err}") from err
    return parse_bundle(data)


def parse_bundle(data: object) -> EvidenceBundle:
    """Check and convert a decoded bundle.

    Args:
        data: the bundle as ``json.loads`` (preferably :func:`load_bundle`) gives it.

    Returns:
        The parsed bundle.

    Raises:
        BundleFormatError: the first problem found, with its JSON Pointer as ``field``.
    """
    top = _object(data, "", {"format", "version", "document", "batch", "anchor"})
    if top.get("format") != BUNDLE_FORMAT:
        raise BundleFormatError("/format", f"must be {BUNDLE_FORMAT!r}")
    version = top.get("version")
    if type(version) is not int or version != BUNDLE_VERSION:
        raise BundleFormatError(
            "/version", f"must be {BUNDLE_VERSION}, got {version!r}"
        )
    document = _document(_required(top, "document", ""))
    batch = _batch(_required(top, "batch", ""))
    anchor = None if top.get("anchor") is None else _anchor(top["anchor"])
    return EvidenceBundle(document, batch, anchor)


def _document(data: object) -> BundleDocument:
    where = "/document"
    keys = {"type", "root", "field_count", "complete", "fields"}
    doc = _object(data, where, keys)
    kind = _required(doc, "type", where)
    if kind not in DOCUMENT_TYPES:
        raise BundleFormatError(f"{where}/type", f"unknown document type {kind!r}")
    root = _hex(doc, "root", where, 32)
    field_count = _integer(doc, "field_count", where, minimum=1, maximum=MAX_FIELDS)
    complete = _required(doc, "complete", where)
    if type(complete) is not bool:
        raise BundleFormatError(f"{where}/complete", "must be true or false")
    raw_fields = _list(doc, "fields", where, maximum=field_count)
    fields = tuple(
        _field(item, f"{where}/fields/{i}", complete)
        for i, item in enumerate(raw_fields)
    )
    if complete and len(fields) != field_count:
        raise BundleFormatError(
            f"{where}/fields", f"a complete bundle must hold all {field_count} fields"
        )
    seen: set[str] = set()
    for i, f in enumerate(fields):
        if f.path in seen:
            raise BundleFormatError(f"{where}/fields/{i}/path", "path appears twice")
        seen.add(f.path)
        if f.path == "/type" and f.value != kind:
            raise BundleFormatError(f"{where}/type", "differs from the /type field")
    return BundleDocument(kind, DocumentRoot(root), field_count, complete, fields)


def _field(data: object, where: str, complete: bool) -> BundleField:
    item = _object(data, where, {"path", "value", "salt", "proof"})
    path = _required(item, "path", where)
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise BundleFormatError(f"{where}/path", "must be a JSON Pointer")
    if "value" not in item:
        raise BundleFormatError(f"{where}/value", "is required")
    value = item["value"]
    try:
        scalar_json(value)
    except RecordError as err:
        raise BundleFormatError(f"{where}/value", err.message) from err
    salt = _hex(item, "salt", where, 32)
    proof: tuple[bytes, ...] | None = None
    if item.get("proof") is not None:
        proof = _proof(item, where)
    elif not complete:
        raise BundleFormatError(f"{where}/proof", "is required in a partial bundle")
    return BundleField(path, value, salt, proof)


def _batch(data: object) -> BundleBatch:
    where = "/batch"
    batch = _object(data, where, {"root", "size", "proof"})
    root = _hex(batch, "root", where, 32)
    size = _integer(batch, "size", where, minimum=1, maximum=2**32)
    return BundleBatch(BatchRoot(root), size, _proof(batch, where))


def _anchor(data: object) -> BundleAnchor:
    where = "/anchor"
    keys = {"chain_id", "contract", "transaction_hash", "block_number"}
    anchor = _object(data, where, keys | {"block_hash", "batch_id"})
    contract = _required(anchor, "contract", where)
    _hex(anchor, "contract", where, 20)
    if not is_checksum_address(contract):
        raise BundleFormatError(f"{where}/contract", "must be an EIP-55 address")
    return BundleAnchor(
        chain_id=_integer(anchor, "chain_id", where, minimum=1, maximum=2**64),
        contract=contract,
        transaction_hash=_hex(anchor, "transaction_hash", where, 32),
        block_number=_integer(anchor, "block_number", where, minimum=0, maximum=2**64),
        block_hash=_hex(anchor, "block_hash", where, 32),
        batch_id=_integer(anchor, "batch_id", where, minimum=0, maximum=2**64),
    )


def _object(data: object, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise BundleFormatError(where, "must be a JSON object")
    for key in getattr(data, "duplicate_keys", ()):
        raise BundleFormatError(f"{where}/{key}", "key appears more than once")
    for key in data:
        if key not in allowed:
            raise BundleFormatError(f"{where}/{key}", "unknown key")
    return data


def _required(data: Mapping[str, Any], key: str, where: str) -> Any:
    if data.get(key) is None:
        raise BundleFormatError(f"{where}/{key}", "is required")
    return data[key]


def _integer(
    data: Mapping[str, Any], key: str, where: str, *, minimum: int, maximum: int
) -> int:
    value = _required(data, key, where)
    if type(value) is not int or not minimum <= value <= maximum:
        raise BundleFormatError(
            f"{where}/{key}", f"must be an integer from {minimum} to {maximum}"
        )
    return value


def _hex(data: Mapping[str, Any], key: str, where: str, length: int) -> bytes:
    return _decode_hex(_required(data, key, where), f"{where}/{key}", length)


def _decode_hex(value: object, field: str, length: int) -> bytes:
    if length == 32 and type(value) is str and _BYTES32.fullmatch(value):
        return bytes.fromhex(value[2:])  # fast path for hashes, the bulk of a bundle
    try:
        return hex_to_bytes(value, field=field, length=length)
    except RecordError as err:
        raise BundleFormatError(err.field, err.message) from err


def _list(data: Mapping[str, Any], key: str, where: str, *, maximum: int) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise BundleFormatError(f"{where}/{key}", "must be an array")
    if len(value) > maximum:
        raise BundleFormatError(f"{where}/{key}", f"must have at most {maximum} items")
    return value


def _proof(data: Mapping[str, Any], where: str) -> tuple[bytes, ...]:
    nodes = _list(data, "proof", where, maximum=MAX_PROOF_LENGTH)
    if all(type(node) is str for node in nodes):
        joined = "".join(nodes)
        if _BYTES32_RUN.fullmatch(joined):  # fast path: one check for the whole proof
            raw = bytes.fromhex(joined.replace("0x", ""))
            return tuple(raw[i : i + 32] for i in range(0, len(raw), 32))
    return tuple(
        _decode_hex(node, f"{where}/proof/{i}", 32) for i, node in enumerate(nodes)
    )
