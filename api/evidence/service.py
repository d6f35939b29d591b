"""Evidence bundles of anchored documents, and verification of anyone's bundle.

Invariants:
    * A bundle is rebuilt from what the service stores: the decrypted canonical record
      and salts are sealed again, and the resulting document root must equal the root
      recorded at registration (and anchored); the batch proof is rebuilt from the
      batch's stored document roots; the anchor comes from the mined transaction.
      Nothing is taken on trust from a cache, so a corrupt row yields an error, never
      a bundle that would fail verification later.
    * Only a party that may see a document gets its bundle; someone else's id answers
      exactly like a missing one (404). Verification needs no account at all.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.anchoring.models import AnchorBatch, ChainTransaction
from api.auth.service import Caller
from api.documents import repository as documents
from api.documents.service import RegistryContext, decrypt_record, decrypt_salts
from api.errors import ConflictError, DocumentNotFoundError, ServiceUnavailableError
from api.evidence.schemas import CheckOut, VerdictOut
from api.models import AnchorOutbox, OutboxStatus
from registry.anchors import AnchorLookup
from registry.bundle import BundleAnchor, EvidenceBundle, make_bundle
from registry.document import seal_canonical
from registry.errors import ConfigurationError
from registry.merkle import build_batch
from registry.verify import Verdict, verify_bundle

logger = logging.getLogger(__name__)

ANCHORED_STATES = {OutboxStatus.ANCHORED, OutboxStatus.FINAL}


class NotAnchoredYetError(ConflictError):
    """The document is registered but its batch is not mined yet; ask again later."""

    slug = "not-anchored-yet"
    title = "Not anchored yet"

    def __init__(self, document_id: uuid.UUID, anchor_status: str | None) -> None:
        super().__init__(
            f"document {document_id} is not anchored yet (anchoring: {anchor_status})",
            extensions={
                "document_id": str(document_id),
                "anchor_status": anchor_status,
            },
            headers={"Retry-After": "2"},
        )


class ContentsErasedError(ConflictError):
    """The document's contents were erased; its hashes stay valid, but no bundle."""

    status = 410
    slug = "contents-erased"
    title = "Contents erased"

    def __init__(self, document_id: uuid.UUID) -> None:
        super().__init__(
            f"the contents of document {document_id} were erased; "
            "bundles issued before the erasure still verify",
            extensions={"document_id": str(document_id)},
        )


@dataclass(frozen=True, slots=True)
class EvidenceContext:
    """What the evidence routes need: keys to decrypt, and the chain to check."""

    registry: RegistryContext
    chain_id: int | None
    lookup: AnchorLookup | None
    min_confirmations: int = 1


def evidence_bundle(
    session: Session,
    context: EvidenceContext,
    caller: Caller,
    document_id: uuid.UUID,
    fields: Sequence[str] | None = None,
) -> EvidenceBundle:
    """The bundle of a document the caller may see; only ``fields`` when given.

    Raises:
        DocumentNotFoundError: missing, or not visible to the caller.
        ContentsErasedError: the contents were erased.
        NotAnchoredYetError: the document's batch is not mined yet.
        ProofError: a field path the document does not have.
    """
    document = documents.get_visible(session, caller, document_id)
    if document is None:
        raise DocumentNotFoundError(document_id)
    record = decrypt_record(context.registry, document)
    salts = decrypt_salts(context.registry, document)
    if record is None or salts is None:
        raise ContentsErasedError(document_id)

    outbox = session.scalars(
        select(AnchorOutbox).where(AnchorOutbox.document_id == document_id)
    ).one_or_none()
    if (
        outbox is None
        or outbox.status not in ANCHORED_STATES
        or outbox.batch_id is None
    ):
        raise NotAnchoredYetError(document_id, outbox.status if outbox else None)
    batch = session.get(AnchorBatch, outbox.batch_id)
    transaction = (
        session.get(ChainTransaction, batch.chain_transaction_id) if batch else None
    )
    if batch is None or transaction is None or transaction.block_number is None:
        raise NotAnchoredYetError(document_id, outbox.status)

    sealed = seal_canonical(record, salts)
    if sealed.root != document.document_root:
        raise ConfigurationError(
            f"stored contents of {document_id} no longer hash to its root"
        )
    tree = build_batch(batch.roots())
    anchor = BundleAnchor(
        chain_id=_chain_id(context),
        contract=transaction.to_address,
        transaction_hash=transaction.mined_hash or transaction.tx_hash,
        block_number=transaction.block_number,
        block_hash=transaction.block_hash or b"",
        batch_id=batch.onchain_batch_id or 0,
    )
    logger.info(
        "evidence.bundle_issued document_id=%s party_id=%s fields=%s",
        document_id,
        caller.id,
        "all" if fields is None else len(fields),
    )
    return make_bundle(sealed, tree, anchor, disclose=fields)


def _chain_id(context: EvidenceContext) -> int:
    if context.chain_id is None:
        raise ServiceUnavailableError("the service is not connected to a chain")
    return context.chain_id


def verify(
    context: EvidenceContext,
    bundle: Any,
    document: Any | None = None,
    *,
    offline: bool = False,
) -> VerdictOut:
    """Verify anyone's bundle (and optionally the document it claims to be about).

    Raises:
        ServiceUnavailableError: a chain check was asked for and no chain is configured.
        ChainError: the chain could not be reached (mapped to 503 with Retry-After).
    """
    if not offline and context.lookup is None:
        raise ServiceUnavailableError("the service is not connected to a chain")
    lookup = None if offline else context.lookup
    verdict = verify_bundle(
        bundle, lookup, min_confirmations=context.min_confirmations, document=document
    )
    return verdict_out(verdict, bundle)


def verdict_out(verdict: Verdict, bundle: Any) -> VerdictOut:
    """The HTTP form of a verdict, with the anchor's block when the bundle names one."""
    anchor = bundle.get("anchor") if isinstance(bundle, dict) else None
    block = anchor.get("block_number") if isinstance(anchor, dict) else None
    return VerdictOut(
        valid=verdict.valid,
        scope=verdict.scope,
        reason=verdict.reason,
        failed_check=verdict.failure.name if verdict.failure else None,
        anchor_block=block if isinstance(block, int) and verdict.valid else None,
        checks=[
            CheckOut(name=c.name, ok=c.ok, detail=c.detail) for c in verdict.checks
        ],
    )
