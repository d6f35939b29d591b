"""Tables of the claims projection and the offers book (created by migration ``0004``).

Invariants:
    * ``claim_events`` holds the ClaimToken's logs as the indexer found them, one row
      per (block hash, log index, claim id); it is the projection's only input.
      ``claims``, ``claim_holdings`` and the fill state of ``claim_offers`` are rebuilt
      from a claim's events (a pure fold), so applying the same log twice, or
      rebuilding twice, changes nothing.
    * On a reorg the events above the fork are deleted and every claim they touched
      is rebuilt from what remains; the checkpoint moves back to the fork and the
      range is scanned again (``api.claims.indexer``).
    * ``chain_block_hashes`` remembers the hash of the blocks the indexer scanned up
      to, per scan, to notice a reorg. Only recent blocks are kept.
    * ``claim_offers`` keeps a seller's signed offer exactly as signed; the chain is
      what decides whether it can still be filled.
"""

from __future__ import annotations

import uuid
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
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base, BigId, MinorAmount, UtcDateTime, utc_now

HASH_LENGTH = 32


class OfferStatus(StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    CLOSED = "closed"
    """Another offer signed with the same nonce sold its last unit."""


class Claim(Base):
    """A confirmed invoice's claim, as projected from ClaimToken events."""

    __tablename__ = "claims"

    claim_id: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH), primary_key=True)
    """The document root (``uint256(documentRoot)`` on chain)."""
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("documents.id"), unique=True
    )
    seller: Mapped[str] = mapped_column(String(42), index=True)
    obligor: Mapped[str] = mapped_column(String(42), index=True)
    currency: Mapped[str] = mapped_column(String(42))
    face_value: Mapped[int] = mapped_column(MinorAmount)
    due_date: Mapped[int] = mapped_column(BigInteger)
    """Unix seconds, as signed."""
    batch_root: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH))
    units_sold: Mapped[int] = mapped_column(MinorAmount)
    repaid: Mapped[int] = mapped_column(MinorAmount)
    paid_out: Mapped[int] = mapped_column(MinorAmount)
    units_redeemed: Mapped[int] = mapped_column(MinorAmount)
    state: Mapped[str] = mapped_column(String(32))
    """The document status the claim implies (confirmed, financed, ... closed)."""
    confirmed_block: Mapped[int] = mapped_column(BigInteger)
    confirmed_tx: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class ClaimHolding(Base):
    """Units of one claim held by one address (zero balances are deleted)."""

    __tablename__ = "claim_holdings"

    claim_id: Mapped[bytes] = mapped_column(
        ForeignKey("claims.claim_id"), primary_key=True
    )
    holder: Mapped[str] = mapped_column(String(42), primary_key=True, index=True)
    units: Mapped[int] = mapped_column(MinorAmount)


class ClaimEvent(Base):
    """One ClaimToken log about one claim (a batch transfer gives one row per id)."""

    __tablename__ = "claim_events"
    __table_args__ = (
        UniqueConstraint("block_hash", "log_index", "claim_id"),
        Index("ix_claim_events_claim_order", "claim_id", "block_number", "log_index"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    claim_id: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH))
    name: Mapped[str] = mapped_column(String(32))
    args: Mapped[str] = mapped_column(Text)
    """The event's arguments as JSON (integers as decimal strings)."""
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    block_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH))
    block_time: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH))


class ClaimOffer(Base):
    """A holder's signed offer, kept as signed; fills come from the projection."""

    __tablename__ = "claim_offers"
    __table_args__ = (Index("ix_claim_offers_claim_seller", "claim_id", "seller"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    claim_id: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH))
    seller: Mapped[str] = mapped_column(String(42))
    buyer: Mapped[str] = mapped_column(String(42))
    units: Mapped[int] = mapped_column(MinorAmount)
    price: Mapped[int] = mapped_column(MinorAmount)
    daily_rate: Mapped[int] = mapped_column(MinorAmount)
    """The simple daily discount rate the price came from, scaled by 1e18."""
    nonce: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[bytes] = mapped_column(LargeBinary(65))
    offer_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH), unique=True)
    units_filled: Mapped[int] = mapped_column(MinorAmount, default=0)
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.OPEN)
    created_by_party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parties.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class ChainBlockHash(Base):
    """The hash a scan saw for a block, to notice when a reorg replaced it."""

    __tablename__ = "chain_block_hashes"

    scan: Mapped[str] = mapped_column(String(128), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_LENGTH))
