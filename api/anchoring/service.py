"""The anchoring pipeline's steps, each inside the caller's database transaction.

Nothing here commits or broadcasts: the worker (``api.anchoring.worker``) reads the
chain, opens a transaction, calls one step, commits, and only then sends bytes. Every
step locks the transaction row it changes and re-checks its status, so two workers
applying the same receipt, or a worker and the reconciler, change it once.

What a step does to the rows around a chain transaction:

================  ===================  ================  =============================
transaction       batch                outbox rows       documents (and timeline)
================  ===================  ================  =============================
built             submitted            submitted         registered
mined (status 1)  mined, chain id      anchored          registered -> anchored
final             final                final             --
reorged           submitted            submitted         anchored -> registered
failed (status 0) failed               pending, freed    -- (never anchored)
dropped           dropped              pending, freed    --
================  ===================  ================  =============================

NOTE: a reorg keeps the documents in their batch (outbox ``submitted``, not
``pending``): the same signed bytes, same nonce, are sent again and will anchor the
same root. Re-batching them instead would anchor them twice once the original
transaction is mined again, as it usually is. Only a dropped transaction (its nonce
taken by a transaction that is none of ours) frees its documents for a new batch.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.anchoring import repository
from api.anchoring.models import (
    UNMINED,
    AnchorBatch,
    BatchStatus,
    ChainTransaction,
    ChainTransactionKind,
    ChainTransactionStatus,
    NullifierPublication,
    NullifierStatus,
)
from api.models import AnchorOutbox, DocumentStatus, OutboxStatus, utc_now
from api.notifications.service import record_events
from registry.anchoring import ANCHOR_GAS
from registry.chain import Broadcast, BroadcastOutcome, ChainClient, ReceiptSummary
from registry.hashing import keccak256
from registry.merkle import build_batch

logger = logging.getLogger(__name__)

BATCH_ANCHORED_TOPIC = keccak256(b"BatchAnchored(uint256,bytes32,uint32,address)")
NULLIFIER_GAS = 80_000
GWEI = 10**9


@dataclass(frozen=True, slots=True)
class AnchoringConfig:
    """How the worker batches, signs, waits and replaces.

    Attributes:
        contract: the registry contract's address.
        batch_size: documents per batch at most; a full batch is sent at once.
        batch_age_seconds: a smaller batch is sent once its oldest row is this old.
        confirmations: blocks (counting its own) before a mined batch is final.
        anchor_gas: gas limit of an ``anchorBatch`` transaction.
        stuck_after_seconds: an unmined transaction this old is re-signed with higher
            fees (same nonce).
        rebroadcast_after_seconds: an unmined transaction is sent again this often
            (a restarted node forgets its pool).
        max_fee_cap: never sign with a ``maxFeePerGas`` above this (wei).
    """

    contract: str
    batch_size: int = 256
    batch_age_seconds: float = 10.0
    confirmations: int = 12
    anchor_gas: int = ANCHOR_GAS
    nullifier_gas: int = NULLIFIER_GAS
    nullifiers_per_cycle: int = 32
    stuck_after_seconds: float = 120.0
    rebroadcast_after_seconds: float = 10.0
    max_fee_cap: int = 1_000 * GWEI
    log_range: int = 500


@dataclass(frozen=True, slots=True)
class SigningContext:
    """What signing needs from the chain, read before the database transaction."""

    signer: str
    chain_next_nonce: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


# -- queueing ----------------------------------------------------------------------


def enqueue_nullifier(session: Session, nullifier: bytes) -> None:
    """Queue a financed invoice's nullifier for publication on chain (idempotent).

    Call it in the transaction that marks the invoice financed: the worker publishes
    it with ``publishNullifier`` through the same nonce-ordered pipeline as batches.
    """
    if len(nullifier) != 32 or nullifier == bytes(32):
        raise ValueError("a nullifier is 32 bytes and not zero")
    repository.insert_nullifier(session, nullifier, utc_now())


# -- building (one database transaction, then commit, then broadcast) -------------


def build_anchor_transaction(
    session: Session,
    client: ChainClient,
    config: AnchoringConfig,
    signing: SigningContext,
    now: datetime,
) -> ChainTransaction | None:
    """Claim pending documents, batch them and sign the anchoring transaction.

    Returns None (and writes nothing) when too few documents wait and the oldest
    is younger than the batch age.
    """
    rows = repository.claim_pending_outbox(session, config.batch_size)
    if not rows or not _batch_due(rows, config, now):
        return None

    roots = [row.document_root for row in rows]
    tree = build_batch(roots)
    registry = client.contract("ReceivableRegistry", config.contract)
    data = bytes.fromhex(
        registry.encode_abi("anchorBatch", args=[tree.root, tree.size])[2:]
    )
    tx = _signed_row(
        session,
        client,
        signing,
        ChainTransactionKind.ANCHOR_BATCH,
        data,
        config.anchor_gas,
        config,
        now,
    )
    batch = AnchorBatch(
        batch_root=tree.root,
        size=tree.size,
        document_roots=b"".join(roots),
        chain_transaction_id=tx.id,
        status=BatchStatus.SUBMITTED,
        created_at=now,
        updated_at=now,
    )
    session.add(batch)
    session.flush()
    for row in rows:
        row.status = OutboxStatus.SUBMITTED
        row.batch_id = batch.id
        row.attempts += 1
        row.updated_at = now
    logger.info(
        "anchor.batch_built batch_id=%s documents=%d root=%s nonce=%d tx=%s",
        batch.id,
        batch.size,
        tree.root.hex(),
        tx.nonce,
        tx.tx_hash.hex(),
    )
    return tx


def _batch_due(
    rows: Sequence[AnchorOutbox], config: AnchoringConfig, now: datetime
) -> bool:
    if len(rows) >= config.batch_size:
        return True
    oldest = min(row.created_at for row in rows)
    return (now - oldest).total_seconds() >= config.batch_age_seconds


def build_nullifier_transactions(
    session: Session,
    client: ChainClient,
    config: AnchoringConfig,
    signing: SigningContext,
    now: datetime,
) -> list[ChainTransaction]:
    """Sign one ``publishNullifier`` transaction per queued nullifier (a few a cycle).

    A nullifier whose earlier transaction failed is first looked up on chain: when
    it is already published (a replaced transaction of ours won), it is marked so.
    """
    registry = client.contract("ReceivableRegistry", config.contract)
    built: list[ChainTransaction] = []
    for publication in repository.claim_pending_nullifiers(
        session, config.nullifiers_per_cycle
    ):
        if publication.attempts and client.read(
            registry.functions.nullifierPublishedAt(publication.nullifier)
        ):
            _set_nullifier(publication, NullifierStatus.PUBLISHED, now)
            continue
        data = bytes.fromhex(
            registry.encode_abi("publishNullifier", args=[publication.nullifier])[2:]
        )
        tx = _signed_row(
            session,
            client,
            signing,
            ChainTransactionKind.PUBLISH_NULLIFIER,
            data,
            config.nullifier_gas,
            config,
            now,
        )
        publication.chain_transaction_id = tx.id
        publication.attempts += 1
        _set_nullifier(publication, NullifierStatus.SUBMITTED, now)
        built.append(tx)
    return built


def _signed_row(
    session: Session,
    client: ChainClient,
    signing: SigningContext,
    kind: ChainTransactionKind,
    data: bytes,
    gas: int,
    config: AnchoringConfig,
    now: datetime,
) -> ChainTransaction:
    nonce = repository.allocate_nonce(session, signing.signer, signing.chain_next_nonce)
    max_fee = min(signing.max_fee_per_gas, config.max_fee_cap)
    tip = min(signing.max_priority_fee_per_gas, max_fee)
    signed = client.sign(
        config.contract,
        data,
        nonce=nonce,
        gas=gas,
        max_fee_per_gas=max_fee,
        max_priority_fee_per_gas=tip,
    )
    tx = ChainTransaction(
        kind=kind,
        signer=signing.signer,
        nonce=nonce,
        to_address=config.contract,
        call_data=data,
        gas_limit=gas,
        max_fee_per_gas=max_fee,
        max_priority_fee_per_gas=tip,
        raw=signed.raw,
        tx_hash=signed.tx_hash,
        previous_hashes=b"",
        status=ChainTransactionStatus.BUILT,
        attempts=1,
        signed_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(tx)
    session.flush()
    return tx


def replace_with_higher_fees(
    session: Session,
    client: ChainClient,
    config: AnchoringConfig,
    tx_id: int,
    expected_hash: bytes,
    quote: tuple[int, int],
    now: datetime,
) -> ChainTransaction | None:
    """Re-sign a stuck transaction's nonce with fees raised by at least 12.5%.

    Every earlier hash is kept, since any of them may still be mined. Returns None
    when the transaction moved on meanwhile, or the fee cap forbids a bump.
    """
    tx = repository.lock_transaction(session, tx_id)
    if tx.status not in UNMINED or tx.tx_hash != expected_hash:
        return None
    max_fee = max(_bumped(tx.max_fee_per_gas), quote[0])
    tip = max(_bumped(tx.max_priority_fee_per_gas), quote[1])
    if max_fee > config.max_fee_cap:
        logger.error(
            "chain.fee_cap_reached nonce=%d tx=%s max_fee=%d cap=%d",
            tx.nonce,
            tx.tx_hash.hex(),
            max_fee,
            config.max_fee_cap,
        )
        return None

    signed = client.sign(
        tx.to_address,
        tx.call_data,
        nonce=tx.nonce,
        gas=tx.gas_limit,
        max_fee_per_gas=max_fee,
        max_priority_fee_per_gas=min(tip, max_fee),
    )
    tx.previous_hashes = tx.previous_hashes + tx.tx_hash
    tx.tx_hash, tx.raw = signed.tx_hash, signed.raw
    tx.max_fee_per_gas = signed.max_fee_per_gas
    tx.max_priority_fee_per_gas = signed.max_priority_fee_per_gas
    tx.status = ChainTransactionStatus.BUILT
    tx.attempts += 1
    tx.signed_at = tx.updated_at = now
    tx.sent_at = None
    logger.warning(
        "chain.tx_replaced nonce=%d tx=%s max_fee=%d attempt=%d",
        tx.nonce,
        tx.tx_hash.hex(),
        max_fee,
        tx.attempts,
    )
    return tx


def _bumped(wei: int) -> int:
    """At least 12.5% more (geth and anvil want 10%), and at least one wei more."""
    return max(wei + 1, math.ceil(wei * 9 / 8))


# -- recording what the chain said -------------------------------------------------


def record_broadcast(
    session: Session, tx_id: int, tx_hash: bytes, sent: Broadcast, now: datetime
) -> None:
    """Note that the bytes of ``tx_hash`` were sent, and what the node said."""
    tx = repository.lock_transaction(session, tx_id)
    if tx.tx_hash != tx_hash or tx.status not in UNMINED:
        return
    tx.updated_at = tx.sent_at = now
    if sent.outcome is BroadcastOutcome.REJECTED:
        tx.error = sent.detail
        logger.error(
            "chain.tx_rejected nonce=%d tx=%s reason=%s",
            tx.nonce,
            tx.tx_hash.hex(),
            sent.detail,
        )
        return
    tx.status = ChainTransactionStatus.BROADCAST


def record_receipt(
    session: Session, tx_id: int, receipt: ReceiptSummary, now: datetime
) -> None:
    """Apply a receipt: mined (status 1) anchors; status 0 fails and re-queues."""
    tx = repository.lock_transaction(session, tx_id)
    if tx.status not in UNMINED:
        return
    tx.block_number, tx.block_hash = receipt.block_number, receipt.block_hash
    tx.mined_hash, tx.gas_used = receipt.tx_hash, receipt.gas_used
    tx.updated_at = now
    if receipt.status == 1:
        tx.status = ChainTransactionStatus.MINED
        _on_mined(session, tx, _batch_id_in(receipt), now)
        return
    tx.status = ChainTransactionStatus.FAILED
    tx.error = f"reverted: gas used {receipt.gas_used} of {tx.gas_limit}"
    logger.warning(
        "chain.tx_failed nonce=%d tx=%s block=%d gas_used=%d gas_limit=%d",
        tx.nonce,
        receipt.tx_hash.hex(),
        receipt.block_number,
        receipt.gas_used,
        tx.gas_limit,
    )
    _release(session, tx, BatchStatus.FAILED, now)


def record_anchor_event(
    session: Session,
    batch_root: bytes,
    onchain_batch_id: int,
    block_number: int,
    block_hash: bytes,
    tx_hash: bytes,
    now: datetime,
) -> bool:
    """Apply a ``BatchAnchored`` event found by the reconciler; True if it changed.

    Idempotent: a batch already mined or final is left as it is.
    """
    batch = repository.live_batch_by_root(session, batch_root)
    if batch is None:
        return False
    tx = repository.lock_transaction(session, batch.chain_transaction_id)
    if tx.status not in UNMINED:
        return False
    if tx_hash not in tx.all_hashes():
        tx.error = f"anchored by unknown transaction {tx_hash.hex()}"
    tx.status = ChainTransactionStatus.MINED
    tx.block_number, tx.block_hash, tx.mined_hash = block_number, block_hash, tx_hash
    tx.updated_at = now
    _on_mined(session, tx, onchain_batch_id, now)
    return True


def record_dropped(session: Session, tx_id: int, now: datetime) -> None:
    """A transaction whose nonce was used by none of its hashes: free its work."""
    tx = repository.lock_transaction(session, tx_id)
    if tx.status not in UNMINED:
        return
    tx.status = ChainTransactionStatus.DROPPED
    tx.updated_at = now
    logger.warning("chain.tx_dropped nonce=%d tx=%s", tx.nonce, tx.tx_hash.hex())
    _release(session, tx, BatchStatus.DROPPED, now)


def settle_mined(
    session: Session,
    tx_id: int,
    canonical_hash: bytes | None,
    latest_block: int,
    confirmations: int,
    now: datetime,
) -> None:
    """Final once confirmed on the canonical chain; back to broadcast after a reorg."""
    tx = repository.lock_transaction(session, tx_id)
    if tx.status != ChainTransactionStatus.MINED or tx.block_number is None:
        return
    if canonical_hash != tx.block_hash:
        _on_reorged(session, tx, now)
        return
    if latest_block - tx.block_number + 1 < confirmations:
        return
    tx.status = ChainTransactionStatus.FINAL
    tx.updated_at = now
    batch = repository.batch_of_transaction(session, tx.id)
    if batch is not None:
        batch.status, batch.updated_at = BatchStatus.FINAL, now
        repository.set_outbox_status(session, batch.id, OutboxStatus.FINAL, now)
        logger.info(
            "anchor.batch_final batch_id=%s block=%d confirmations=%d",
            batch.id,
            tx.block_number,
            latest_block - tx.block_number + 1,
        )
    publication = repository.nullifier_of_transaction(session, tx.id)
    if publication is not None:
        _set_nullifier(publication, NullifierStatus.FINAL, now)


def _batch_id_in(receipt: ReceiptSummary) -> int | None:
    for log in receipt.logs:
        if log.topics and log.topics[0] == BATCH_ANCHORED_TOPIC:
            return int.from_bytes(log.topics[1], "big")
    return None


def _on_mined(
    session: Session, tx: ChainTransaction, onchain_batch_id: int | None, now: datetime
) -> None:
    publication = repository.nullifier_of_transaction(session, tx.id)
    if publication is not None:
        _set_nullifier(publication, NullifierStatus.PUBLISHED, now)
        logger.info("nullifier.published nonce=%d block=%s", tx.nonce, tx.block_number)
    batch = repository.batch_of_transaction(session, tx.id)
    if batch is None:
        return
    batch.status, batch.onchain_batch_id, batch.updated_at = (
        BatchStatus.MINED,
        onchain_batch_id,
        now,
    )
    repository.set_outbox_status(session, batch.id, OutboxStatus.ANCHORED, now)
    reason = (
        f"anchored in batch {onchain_batch_id} (block {tx.block_number}, "
        f"tx 0x{(tx.mined_hash or tx.tx_hash).hex()})"
    )
    _move_documents(
        session, batch, DocumentStatus.REGISTERED, DocumentStatus.ANCHORED, reason, now
    )
    logger.info(
        "anchor.batch_mined batch_id=%s onchain_id=%s documents=%d block=%s tx=%s",
        batch.id,
        onchain_batch_id,
        batch.size,
        tx.block_number,
        (tx.mined_hash or tx.tx_hash).hex(),
    )


def _on_reorged(session: Session, tx: ChainTransaction, now: datetime) -> None:
    block_number = tx.block_number
    tx.status = ChainTransactionStatus.BROADCAST
    tx.block_number = tx.block_hash = tx.mined_hash = tx.gas_used = None
    tx.sent_at = None  # send the same bytes again at once
    tx.updated_at = now
    logger.warning(
        "chain.tx_reorged nonce=%d tx=%s block=%s",
        tx.nonce,
        tx.tx_hash.hex(),
        block_number,
    )
    publication = repository.nullifier_of_transaction(session, tx.id)
    if publication is not None:
        _set_nullifier(publication, NullifierStatus.SUBMITTED, now)
    batch = repository.batch_of_transaction(session, tx.id)
    if batch is None:
        return
    batch.status, batch.onchain_batch_id, batch.updated_at = (
        BatchStatus.SUBMITTED,
        None,
        now,
    )
    repository.set_outbox_status(session, batch.id, OutboxStatus.SUBMITTED, now)
    reason = f"anchor in block {block_number} removed by a reorg; anchoring again"
    _move_documents(
        session, batch, DocumentStatus.ANCHORED, DocumentStatus.REGISTERED, reason, now
    )


def _release(
    session: Session, tx: ChainTransaction, status: BatchStatus, now: datetime
) -> None:
    """A transaction that anchored nothing: its documents or nullifier wait again."""
    publication = repository.nullifier_of_transaction(session, tx.id)
    if publication is not None:
        publication.chain_transaction_id = None
        _set_nullifier(publication, NullifierStatus.PENDING, now)
    batch = repository.batch_of_transaction(session, tx.id)
    if batch is None:
        return
    batch.status, batch.updated_at = status, now
    released = repository.set_outbox_status(
        session, batch.id, OutboxStatus.PENDING, now, release=True
    )
    logger.warning(
        "anchor.batch_requeued batch_id=%s documents=%d reason=%s",
        batch.id,
        released,
        status,
    )


def _set_nullifier(
    publication: NullifierPublication, status: NullifierStatus, now: datetime
) -> None:
    publication.status, publication.updated_at = status, now


def _move_documents(
    session: Session,
    batch: AnchorBatch,
    from_status: DocumentStatus,
    to_status: DocumentStatus,
    reason: str,
    now: datetime,
) -> None:
    """Move the batch's documents; those already further along keep their status.

    Every document gets a timeline row, so an invoice financed before its anchor was
    mined still shows when (and where) it was anchored.
    """
    rows = repository.outbox_of_batch(session, batch.id)
    statuses = repository.document_statuses(session, [row.document_id for row in rows])
    moving: list[uuid.UUID] = []
    events: list[dict[str, Any]] = []
    for document_id, status in statuses.items():
        new_status = to_status if status == from_status else status
        if new_status != status:
            moving.append(document_id)
        events.append(
            {
                "document_id": document_id,
                "at": now,
                "actor_party_id": None,
                "from_status": status,
                "to_status": new_status,
                "reason": reason,
            }
        )
    repository.set_document_status(session, moving, to_status, now)
    repository.add_document_events(session, events)
    record_events(session, [event["document_id"] for event in events])
