"""Queries of the anchoring pipeline. Nothing here commits; callers own transactions.

Locking: on PostgreSQL rows are taken with ``FOR UPDATE`` (``SKIP LOCKED`` for queue
claims, so several workers share a queue without waiting on each other); on SQLite
every write transaction is ``BEGIN IMMEDIATE`` (``api.db``), which serialises writers,
and SQLAlchemy renders no ``FOR UPDATE`` there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.anchoring.models import (
    LIVE_BATCH_STATUSES,
    AnchorBatch,
    ChainCheckpoint,
    ChainDeployment,
    ChainTransaction,
    NullifierPublication,
    NullifierStatus,
    SignerNonce,
)
from api.models import (
    AnchorOutbox,
    Document,
    DocumentEvent,
    OutboxStatus,
    utc_now,
)

# -- outbox ----------------------------------------------------------------------


def claim_pending_outbox(session: Session, limit: int) -> list[AnchorOutbox]:
    """Lock up to ``limit`` pending outbox rows, oldest first, skipping locked ones."""
    statement = (
        select(AnchorOutbox)
        .where(AnchorOutbox.status == OutboxStatus.PENDING)
        .order_by(AnchorOutbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(statement))


def outbox_of_batch(session: Session, batch_id: int) -> list[AnchorOutbox]:
    """The outbox rows of one batch, in id order (the batch's document order)."""
    statement = (
        select(AnchorOutbox)
        .where(AnchorOutbox.batch_id == batch_id)
        .order_by(AnchorOutbox.id)
    )
    return list(session.scalars(statement))


def set_outbox_status(
    session: Session,
    batch_id: int,
    status: OutboxStatus,
    now: datetime,
    *,
    release: bool = False,
) -> int:
    """Move every row of a batch to ``status``; ``release`` also clears the batch."""
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if release:
        values["batch_id"] = None
    result = session.execute(
        update(AnchorOutbox).where(AnchorOutbox.batch_id == batch_id).values(**values)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- documents ---------------------------------------------------------------------


def document_statuses(
    session: Session, document_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Current status of each document, locked against a concurrent change."""
    statement = (
        select(Document.id, Document.status)
        .where(Document.id.in_(document_ids))
        .with_for_update()
    )
    return {row.id: row.status for row in session.execute(statement)}


def set_document_status(
    session: Session, document_ids: Sequence[uuid.UUID], status: str, now: datetime
) -> None:
    """Set the status of documents (the caller checked each transition)."""
    if document_ids:
        session.execute(
            update(Document)
            .where(Document.id.in_(document_ids))
            .values(status=status, updated_at=now)
        )


def add_document_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    """Insert timeline rows (``document_events`` column values) in one statement."""
    if events:
        session.execute(insert(DocumentEvent), list(events))


# -- nonces and transactions -------------------------------------------------------


def allocate_nonce(session: Session, signer: str, chain_next: int) -> int:
    """Take the next nonce of ``signer`` under a row lock and advance the counter.

    ``chain_next`` is the chain's own count for the signer, read before this
    transaction; it only matters when something outside this database used the key
    (a deployment, say), so the counter jumps past those nonces, never back.
    """
    _insert_ignore(session, SignerNonce, {"signer": signer, "next_nonce": chain_next})
    row = session.scalars(
        select(SignerNonce).where(SignerNonce.signer == signer).with_for_update()
    ).one()
    nonce = max(row.next_nonce, chain_next)
    row.next_nonce = nonce + 1
    row.updated_at = utc_now()
    return nonce


def _insert_ignore(session: Session, model: Any, values: dict[str, Any]) -> None:
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(upsert(model).values(**values).on_conflict_do_nothing())


def transactions(
    session: Session, signer: str, statuses: Iterable[str]
) -> list[ChainTransaction]:
    """The signer's transactions in any of ``statuses``, by nonce."""
    statement = (
        select(ChainTransaction)
        .where(ChainTransaction.signer == signer)
        .where(ChainTransaction.status.in_(list(statuses)))
        .order_by(ChainTransaction.nonce)
    )
    return list(session.scalars(statement))


def lock_transaction(session: Session, tx_id: int) -> ChainTransaction:
    """One transaction row, locked for the rest of the database transaction."""
    statement = (
        select(ChainTransaction)
        .where(ChainTransaction.id == tx_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(statement).one()


def transaction_by_hash(session: Session, tx_hash: bytes) -> ChainTransaction | None:
    """The transaction whose newest hash is ``tx_hash``."""
    statement = select(ChainTransaction).where(ChainTransaction.tx_hash == tx_hash)
    return session.scalars(statement).first()


# -- batches and nullifiers --------------------------------------------------------


def batch_of_transaction(session: Session, tx_id: int) -> AnchorBatch | None:
    """The batch a transaction anchors (None for other kinds)."""
    statement = select(AnchorBatch).where(AnchorBatch.chain_transaction_id == tx_id)
    return session.scalars(statement).first()


def live_batch_by_root(session: Session, batch_root: bytes) -> AnchorBatch | None:
    """The submitted, mined or final batch with ``batch_root``, if any."""
    statement = (
        select(AnchorBatch)
        .where(AnchorBatch.batch_root == batch_root)
        .where(AnchorBatch.status.in_(LIVE_BATCH_STATUSES))
    )
    return session.scalars(statement).first()


def batches_in(session: Session, statuses: Iterable[str]) -> list[AnchorBatch]:
    """Every batch in any of ``statuses``, by id."""
    statement = (
        select(AnchorBatch)
        .where(AnchorBatch.status.in_(list(statuses)))
        .order_by(AnchorBatch.id)
    )
    return list(session.scalars(statement))


def claim_pending_nullifiers(
    session: Session, limit: int
) -> list[NullifierPublication]:
    """Lock up to ``limit`` nullifiers waiting to be published, oldest first."""
    statement = (
        select(NullifierPublication)
        .where(NullifierPublication.status == NullifierStatus.PENDING)
        .order_by(NullifierPublication.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(statement))


def nullifier_of_transaction(
    session: Session, tx_id: int
) -> NullifierPublication | None:
    """The nullifier a transaction publishes (None for other kinds)."""
    statement = select(NullifierPublication).where(
        NullifierPublication.chain_transaction_id == tx_id
    )
    return session.scalars(statement).first()


def insert_nullifier(session: Session, nullifier: bytes, now: datetime) -> None:
    """Queue ``nullifier`` once; queuing it again changes nothing."""
    _insert_ignore(
        session,
        NullifierPublication,
        {
            "nullifier": nullifier,
            "status": NullifierStatus.PENDING,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        },
    )


# -- checkpoints and deployments ---------------------------------------------------


def checkpoint(session: Session, name: str) -> ChainCheckpoint | None:
    """The named scan checkpoint, locked (one scanner advances it at a time)."""
    statement = (
        select(ChainCheckpoint).where(ChainCheckpoint.name == name).with_for_update()
    )
    return session.scalars(statement).first()


def save_checkpoint(session: Session, name: str, next_block: int) -> None:
    """Record that blocks before ``next_block`` were scanned (never moves back)."""
    _insert_ignore(
        session,
        ChainCheckpoint,
        {"name": name, "next_block": next_block, "updated_at": utc_now()},
    )
    session.execute(
        update(ChainCheckpoint)
        .where(ChainCheckpoint.name == name)
        .where(ChainCheckpoint.next_block < next_block)
        .values(next_block=next_block, updated_at=utc_now())
    )


def deployment(session: Session, name: str) -> ChainDeployment | None:
    """The recorded deployment called ``name``."""
    return session.get(ChainDeployment, name)


def record_deployment(
    session: Session,
    name: str,
    *,
    chain_id: int,
    address: str,
    code_hash: bytes,
    block_number: int,
) -> None:
    """Record a deployment unless one of that name is recorded already."""
    _insert_ignore(
        session,
        ChainDeployment,
        {
            "name": name,
            "chain_id": chain_id,
            "address": address,
            "code_hash": code_hash,
            "block_number": block_number,
            "recorded_at": utc_now(),
        },
    )
    session.flush()


def count_outbox(session: Session, status: OutboxStatus) -> int:
    """How many outbox rows are in ``status`` (for reports and tests)."""
    statement = select(func.count()).where(AnchorOutbox.status == status)
    return int(session.scalar(statement) or 0)
