"""Verifying evidence bundles: offline (hashes only) and against the chain.

Invariants:
    * Checks run in a fixed order and stop at the first failure; a verdict is valid
      only when every check ran and passed ("no partial credit"):
      bundle format -> each field (leaf and proof) -> document root -> the supplied
      document's canonical fields equal the bundle's -> batch proof -> chain id ->
      contract code -> batch root anchored by that contract -> anchored at the stated
      block and batch id -> block hash at that height -> confirmations.
    * Every leaf is recomputed from path, value and salt; a verifier never accepts a
      leaf or a node from the bundle, so an inner node cannot pose as a field, and a
      batch leaf is always keccak256(keccak256(document root)).
    * Values are compared by type and value (``True`` is not ``1``), as their canonical
      bytes would be.
    * The transaction hash in an anchor is carried for people and explorers; it is not
      checked, because the contract's record of the root, the block and the block hash
      prove the anchor without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from registry.anchors import AnchorLookup
from registry.bundle import EvidenceBundle, load_bundle, parse_bundle
from registry.canonical import JsonValue, flatten
from registry.document import document_root_of, field_leaf
from registry.errors import BundleFormatError, RecordError
from registry.merkle import MerkleTree, process_proof, proof_length_fits
from registry.merkle import verify_batch_proof as _batch_proof_holds
from registry.records import Record, parse_record, record_to_canonical_dict
from registry.types import to_hex


@dataclass(frozen=True, slots=True)
class Check:
    """One step of a verification: its name, whether it passed, and why."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a verification.

    Attributes:
        valid: True only if every check passed.
        checks: the checks run, in order; the last one failed if ``valid`` is False.
        failure: the first failed check, or None.
        reason: the failure's detail, or a summary of what was proven.
        scope: ``"offline"`` (hashes only) or ``"chain"`` (also against a chain).
    """

    valid: bool
    checks: tuple[Check, ...]
    failure: Check | None
    reason: str
    scope: Literal["offline", "chain"]


class _Run:
    """Collects checks; ``ok`` and ``fail`` return whether to carry on."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def ok(self, name: str, detail: str) -> bool:
        self.checks.append(Check(name, True, detail))
        return True

    def fail(self, name: str, detail: str) -> bool:
        self.checks.append(Check(name, False, detail))
        return False

    def verdict(self, scope: Literal["offline", "chain"]) -> Verdict:
        failure = next((c for c in self.checks if not c.ok), None)
        if failure is not None:
            reason = f"{failure.name}: {failure.detail}"
        else:
            reason = f"all {len(self.checks)} {scope} checks passed"
        return Verdict(failure is None, tuple(self.checks), failure, reason, scope)


BundleInput = EvidenceBundle | Mapping[str, Any] | str | bytes
DocumentInput = Record | Mapping[str, Any]


def verify_offline(
    bundle: BundleInput, document: DocumentInput | None = None
) -> Verdict:
    """Check a bundle's hashes: fields, document root, the document, the batch proof.

    Args:
        bundle: a parsed bundle, its decoded JSON, or its JSON text.
        document: optionally, the record the bundle is claimed to be about (a parsed
            record or raw record data); its canonical fields must equal the bundle's.

    Returns:
        The verdict (``scope="offline"``): nothing about the chain is proven.
    """
    run = _Run()
    _offline(run, bundle, document)
    return run.verdict("offline")


def verify_bundle(
    bundle: BundleInput,
    lookup: AnchorLookup | None,
    *,
    min_confirmations: int = 1,
    document: DocumentInput | None = None,
) -> Verdict:
    """Check a bundle's hashes and then its anchor on a chain.

    Args:
        bundle: a parsed bundle, its decoded JSON, or its JSON text.
        lookup: the chain to ask; None checks offline only (``scope="offline"``).
        min_confirmations: blocks, counting the anchoring block, that must exist.
        document: optionally, the record the bundle is claimed to be about.

    Returns:
        The verdict.

    Raises:
        ChainError: the lookup could not reach the chain (no verdict either way).
    """
    run = _Run()
    parsed = _offline(run, bundle, document)
    if parsed is None or lookup is None:
        return run.verdict("offline" if lookup is None else "chain")
    _on_chain(run, parsed, lookup, min_confirmations)
    return run.verdict("chain")


def _offline(
    run: _Run, bundle: BundleInput, document: DocumentInput | None
) -> EvidenceBundle | None:
    parsed = _parse(run, bundle)
    if parsed is None:
        return None
    doc = parsed.document
    passed = (
        _complete_fields(run, parsed) if doc.complete else _partial_fields(run, parsed)
    )
    if not passed:
        return None
    if document is not None and not _same_document(run, parsed, document):
        return None
    batch = parsed.batch
    if not proof_length_fits(len(batch.proof), batch.size):
        run.fail(
            "batch_proof",
            f"a proof of {len(batch.proof)} nodes cannot fit a batch of {batch.size}",
        )
        return None
    if not _batch_proof_holds(batch.root, doc.root, batch.proof):
        run.fail(
            "batch_proof", f"the proof does not lead to batch root {to_hex(batch.root)}"
        )
        return None
    run.ok("batch_proof", f"document root is in batch {to_hex(batch.root)}")
    return parsed


def _parse(run: _Run, bundle: BundleInput) -> EvidenceBundle | None:
    if isinstance(bundle, EvidenceBundle):
        run.ok("bundle_format", "parsed bundle")
        return bundle
    try:
        parsed = (
            load_bundle(bundle)
            if isinstance(bundle, str | bytes)
            else parse_bundle(bundle)
        )
    except BundleFormatError as err:
        run.fail("bundle_format", f"{err.field or '<bundle>'}: {err}")
        return None
    run.ok("bundle_format", "well-formed version 1 bundle")
    return parsed


def _complete_fields(run: _Run, bundle: EvidenceBundle) -> bool:
    doc = bundle.document
    try:
        leaves = [field_leaf(f.path, f.value, f.salt) for f in doc.fields]
        tree = MerkleTree.from_leaves(leaves)
    except RecordError as err:
        return run.fail("fields", f"{err.field}: {err.message}")
    for f, leaf in zip(doc.fields, leaves, strict=True):
        if f.proof is not None and process_proof(leaf, f.proof) != tree.root:
            return run.fail("fields", f"the proof of {f.path} does not fit the fields")
    run.ok("fields", f"all {len(leaves)} field leaves recomputed")
    if document_root_of(tree.root) != doc.root:
        return run.fail("document_root", "the fields do not hash to the document root")
    return run.ok("document_root", f"fields hash to {to_hex(doc.root)}")


def _partial_fields(run: _Run, bundle: EvidenceBundle) -> bool:
    doc = bundle.document
    for f in doc.fields:
        name = f"field {f.path}"
        proof = f.proof or ()
        if not proof_length_fits(len(proof), doc.field_count):
            return run.fail(
                name,
                f"a proof of {len(proof)} nodes cannot fit {doc.field_count} fields",
            )
        try:
            leaf = field_leaf(f.path, f.value, f.salt)
        except RecordError as err:
            return run.fail(name, err.message)
        if document_root_of(process_proof(leaf, proof)) != doc.root:
            return run.fail(
                name, "value, salt and proof do not lead to the document root"
            )
        run.ok(name, "leaf and proof lead to the document root")
    if not doc.fields:
        return run.ok(
            "document_root", "no field disclosed: the root is taken as stated"
        )
    return run.ok(
        "document_root",
        f"{len(doc.fields)} disclosed fields lead to {to_hex(doc.root)}",
    )


def _same_document(run: _Run, bundle: EvidenceBundle, document: DocumentInput) -> bool:
    name = "document_content"
    try:
        record = parse_record(document) if isinstance(document, Mapping) else document
        fields = dict(flatten(record_to_canonical_dict(record)))
    except RecordError as err:
        return run.fail(name, f"the document is not a valid record: {err}")
    doc = bundle.document
    if doc.complete and len(fields) != len(doc.fields):
        return run.fail(
            name, f"the document has {len(fields)} fields, the bundle {len(doc.fields)}"
        )
    if not doc.fields:
        return run.fail(
            name, "the bundle discloses no field to compare the document with"
        )
    for f in doc.fields:
        if f.path not in fields:
            return run.fail(name, f"the document has no field {f.path}")
        if not _same_value(fields[f.path], f.value):
            return run.fail(name, f"the document's {f.path} differs from the bundle's")
    return run.ok(name, "the document's canonical fields equal the bundle's")


def _same_value(a: JsonValue, b: JsonValue) -> bool:
    return type(a) is type(b) and a == b


def _on_chain(
    run: _Run, bundle: EvidenceBundle, lookup: AnchorLookup, min_confirmations: int
) -> bool:
    anchor = bundle.anchor
    if anchor is None:
        return run.fail("anchor", "the bundle carries no anchor")
    chain_id = lookup.chain_id()
    if chain_id != anchor.chain_id:
        return run.fail(
            "chain_id",
            f"the endpoint is chain {chain_id}, the bundle says {anchor.chain_id}",
        )
    run.ok("chain_id", f"chain {chain_id}")
    if not lookup.has_code(anchor.contract):
        return run.fail("contract_code", f"no contract deployed at {anchor.contract}")
    run.ok("contract_code", f"contract deployed at {anchor.contract}")
    record = lookup.anchor_of(anchor.contract, bundle.batch.root)
    if record is None:
        return run.fail(
            "batch_anchored",
            f"{anchor.contract} has no record of batch root "
            f"{to_hex(bundle.batch.root)}",
        )
    run.ok("batch_anchored", f"batch root anchored by {anchor.contract}")
    if (record.block_number, record.batch_id) != (anchor.block_number, anchor.batch_id):
        return run.fail(
            "anchor_position",
            f"anchored as batch {record.batch_id} in block {record.block_number}, "
            f"the bundle says batch {anchor.batch_id} in block {anchor.block_number}",
        )
    if record.document_count != bundle.batch.size:
        return run.fail(
            "anchor_position",
            f"anchored with {record.document_count} documents, "
            f"the bundle says {bundle.batch.size}",
        )
    run.ok("anchor_position", f"batch {anchor.batch_id} in block {anchor.block_number}")
    block_hash = lookup.block_hash(anchor.block_number)
    if block_hash != anchor.block_hash:
        seen = "no block" if block_hash is None else to_hex(block_hash)
        return run.fail(
            "block_hash",
            f"block {anchor.block_number} is {seen}, "
            f"the bundle says {to_hex(anchor.block_hash)}",
        )
    run.ok("block_hash", f"block {anchor.block_number} is {to_hex(block_hash)}")
    confirmations = lookup.latest_block_number() - anchor.block_number + 1
    if confirmations < min_confirmations:
        return run.fail(
            "confirmations",
            f"{confirmations} confirmations, {min_confirmations} needed",
        )
    return run.ok("confirmations", f"{confirmations} confirmations")
