"""Tables of the anchoring pipeline (created by migration ``0002``).

Invariants:
    * Every chain transaction the service sends is a ``chain_transactions`` row first:
      signed locally, its raw bytes and hash committed, and only then broadcast. So
      nothing reaches the chain without a committed row, and a crash between commit
      and broadcast is healed by sending the stored bytes again (same nonce, hash).
    * A transaction is tracked by ``(signer, nonce)``, unique. A fee bump re-signs the
      same nonce: ``tx_hash`` becomes the newest hash and every earlier hash is kept in
      ``previous_hashes`` (concatenated 32-byte hashes), because any of them may be
      the one that gets mined.
    * ``signer_nonces.next_nonce`` is the next nonce to hand out, taken under a row
      lock in the transaction that stores the signed bytes: nonces from one key are
      never reused and never skipped, whatever number of workers share it.
    * At most one live (``submitted``/``mined``/``final``) batch per batch root; a
      ``failed`` or ``dropped`` batch never anchored anything, so its documents may be
      batched again, even into the same root.

Transaction status: ``built -> broadcast -> mined -> final``; ``mined -> broadcast``
on a reorg; ``broadcast -> failed`` (mined with status 0); ``broadcast -> dropped``
(its nonce was used by a transaction that is none of ours).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base, BigId, UtcDateTime, utc_now

HASH_LENGTH = 32


class ChainTransactionKind(StrEnum):
    ANCHOR_BATCH = "anchor_batch"
    PUBLISH_NULLIFIER = "publish_nullifier"


class ChainTransactionStatus(StrEnum):
    BUILT = "built"
    BROADCAST = "broadcast"
    MINED = "mined"
    FINAL = "final"
    FAILED = "failed"
    DROPPED = "dropped"


UNMINED = (ChainTransactionStatus.BUILT, ChainTransactionStatus.BROADCAST)


class BatchStatus(StrEnum):
    SUBMITTED = "submitted"
    MINED = "mined"
    FINAL = "final"
    FAILED = "failed"
    DROPPED = "dropped"


LIVE_BATCH_STATUSES = (BatchStatus.SUBMITTED, BatchStatus.MINED, BatchStatus.FINAL)


class NullifierStatus(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    FINAL = "final"


class ChainTransaction(Base):
    """One nonce of one signer: the signed bytes, every hash, and where it was mined."""

    __tablename__ = "chain_transactions"
    __table_args__ = (
        UniqueConstraint("signer", "nonce"),
        Index("ix_chain_transactions_status_signer", "status", "signer"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    signer: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    to_address: Mapped[str] = mapped_column(String(42))
    call_data: Mapped[bytes] = mapped_column(LargeBinary)
    gas_limit: Mapped[int] = mapped_column(BigInteger)
    max_fee_per_gas: Mapped[int] = mapped_column(BigInteger)
    max_priority_fee_per_gas: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    tx_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH), index=True)
    previous_hashes: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    status: Mapped[str] = mapped_column(String(16))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_hash: Mapped[bytes | None] = mapped_column(LargeBinary(HASH_LENGTH))
    mined_hash: Mapped[bytes | None] = mapped_column(LargeBinary(HASH_LENGTH))
    gas_used: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    def all_hashes(self) -> list[bytes]:
        """Every hash this nonce was signed under, newest first."""
        older = [
            self.previous_hashes[i : i + HASH_LENGTH]
            for i in range(0, len(self.previous_hashes), HASH_LENGTH)
        ]
        return [self.tx_hash, *reversed(older)]


_LIVE = text("status IN ('submitted', 'mined', 'final')")


class AnchorBatch(Base):
    """A batch of document roots anchored by one transaction (the outbox's batch_id)."""

    __tablename__ = "anchor_batches"
    __table_args__ = (
        Index(
            "uq_anchor_batches_live_root",
            "batch_root",
            unique=True,
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_root: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH))
    size: Mapped[int] = mapped_column(Integer)
    document_roots: Mapped[bytes] = mapped_column(LargeBinary)
    """The batch's document roots in outbox order, concatenated 32-byte values."""
    chain_transaction_id: Mapped[int] = mapped_column(
        ForeignKey("chain_transactions.id"), unique=True
    )
    onchain_batch_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    def roots(self) -> list[bytes]:
        """The document roots, in order."""
        blob = self.document_roots
        return [blob[i : i + HASH_LENGTH] for i in range(0, len(blob), HASH_LENGTH)]


class NullifierPublication(Base):
    """A financed invoice's nullifier waiting to be, or already, published on chain."""

    __tablename__ = "nullifier_publications"
    __table_args__ = (Index("ix_nullifier_publications_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    nullifier: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=NullifierStatus.PENDING)
    chain_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("chain_transactions.id"), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class SignerNonce(Base):
    """The next nonce to hand out for one signing address (locked while taken)."""

    __tablename__ = "signer_nonces"

    signer: Mapped[str] = mapped_column(String(42), primary_key=True)
    next_nonce: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class ChainCheckpoint(Base):
    """How far an event scan got: the next block to scan, per scan name."""

    __tablename__ = "chain_checkpoints"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    next_block: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class ChainDeployment(Base):
    """The chain and contract the service first started against (start-up check)."""

    __tablename__ = "chain_deployments"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    address: Mapped[str] = mapped_column(String(42))
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH))
    block_number: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
