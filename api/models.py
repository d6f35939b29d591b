"""The service's tables (SQLAlchemy 2.0 typed ORM). Alembic migrations create them.

Conventions: ids are UUIDs; times are aware UTC datetimes (``*_at``) and calendar dates
``*_on``; hashes are 32 raw bytes; money is an integer number of minor units stored
exactly (``NUMERIC(78, 0)`` on PostgreSQL, zero-padded text on SQLite), never a float.

Outbox contract (``anchor_outbox``), for the anchoring worker:
    * The API inserts one row per registered document, ``status='pending'``, in the
      same transaction as the document, so a committed document is always queued and
      a rolled-back one never is. ``document_root`` is copied in: the worker needs no
      join and never decrypts anything.
    * Rows are claimed in ``id`` order. On PostgreSQL several workers share the queue
      with ``SELECT ... WHERE status = 'pending' ORDER BY id FOR UPDATE SKIP LOCKED``;
      on SQLite a single worker runs.
    * Status moves ``pending -> submitted`` (``batch_id`` set, in the transaction that
      records the batch) ``-> anchored`` (mined) ``-> final`` (enough confirmations).
      A reorg sends ``anchored`` rows back to ``submitted`` in the same batch: the
      worker resends the same signed bytes (same nonce), because re-batching them
      would anchor them twice once the original transaction is mined again. Only a
      failed or dropped transaction sends its rows back to ``pending`` with
      ``batch_id`` cleared (docs/anchoring.md). ``attempts`` counts submissions;
      ``updated_at`` is the time of the last change. Rows are never deleted by the API.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

AMOUNT_DIGITS = 78
"""Enough decimal digits for any uint256 amount (2**256 - 1 has 78 digits)."""

BigId = BigInteger().with_variant(Integer, "sqlite")
"""An auto-incrementing integer key (SQLite only auto-increments INTEGER keys)."""


def utc_now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite keeps no zone; UTC assumed)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


class MinorAmount(TypeDecorator[int]):
    """A non-negative integer amount of minor units, stored exactly.

    PostgreSQL: ``NUMERIC(78, 0)``. SQLite: text zero-padded to 78 digits, so text
    order is numeric order and nothing passes through a float.
    """

    impl = Numeric(AMOUNT_DIGITS, 0)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(AMOUNT_DIGITS))
        return dialect.type_descriptor(Numeric(AMOUNT_DIGITS, 0, asdecimal=True))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if type(value) is not int or value < 0 or value >= 10**AMOUNT_DIGITS:
            raise ValueError("an amount is a non-negative int of at most 78 digits")
        if dialect.name == "sqlite":
            return str(value).zfill(AMOUNT_DIGITS)
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class Base(DeclarativeBase):
    """Declarative base with constraint names Alembic can refer to."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
        }
    )


class PartyRole(StrEnum):
    SELLER = "seller"
    BUYER = "buyer"
    FUNDER = "funder"
    AUDITOR = "auditor"
    OPERATOR = "operator"


class DocumentKind(StrEnum):
    PURCHASE_ORDER = "purchase_order"
    DELIVERY_NOTE = "delivery_note"
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class DocumentStatus(StrEnum):
    """The life of a document (DESIGN.md, "Life of an invoice")."""

    REGISTERED = "registered"
    ANCHORED = "anchored"
    PENDING_CONFIRMATION = "pending_confirmation"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    LISTED = "listed"
    FINANCED = "financed"
    DUE = "due"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    DEFAULTED = "defaulted"
    CLOSED = "closed"
    DISPUTED = "disputed"
    CANCELLED = "cancelled"


class FingerprintStatus(StrEnum):
    """Registry statuses of an invoice identity, as cross-lender registries use them."""

    UNIQUE = "unique"
    DUPLICATE = "duplicate"
    FINANCED = "financed"
    DUPLICATE_OF_FINANCED = "duplicate_of_financed"
    CANCELLED = "cancelled"


class FinancingSource(StrEnum):
    """How an invoice was financed (see migration 0005)."""

    RECORDED = "recorded"
    CLAIM_SALE = "claim_sale"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    ANCHORED = "anchored"
    FINAL = "final"


class IdempotencyState(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class Party(Base):
    """A registered participant: seller, buyer, funder, auditor or operator."""

    __tablename__ = "parties"
    __table_args__ = (UniqueConstraint("role", "tax_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(512))
    tax_id: Mapped[str | None] = mapped_column(String(64), index=True)
    eth_address: Mapped[str | None] = mapped_column(String(42), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class Credential(Base):
    """An API key: only the HMAC-SHA256 of the bearer token is kept."""

    __tablename__ = "credentials"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parties.id"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Document(Base):
    """A registered trade document; its contents are encrypted (see ``api.crypto``).

    Plain columns hold only what queries and access rules need. Erasing a document
    clears ``payload``, ``salts`` and ``wrapped_key``; the hashes stay as evidence.
    """

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_seller_listing", "seller_id", "created_at", "id"),
        Index("ix_documents_buyer_listing", "buyer_tax_id", "kind", "created_at"),
        Index("ix_documents_registered_by", "registered_by_party_id", "created_at"),
        Index("ix_documents_lookup", "seller_tax_id", "kind", "number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    seller_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("parties.id"))
    buyer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("parties.id"))
    registered_by_party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parties.id"))
    seller_tax_id: Mapped[str] = mapped_column(String(64))
    buyer_tax_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str | None] = mapped_column(String(3))
    total_minor: Mapped[int | None] = mapped_column(MinorAmount)
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    document_root: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    salts: Mapped[bytes | None] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class DocumentLink(Base):
    """A document's reference to another: a delivery's order, an invoice's notes."""

    __tablename__ = "document_links"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id"), primary_key=True
    )
    target_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id"), primary_key=True, index=True
    )
    relation: Mapped[str] = mapped_column(String(32))


class DocumentEvent(Base):
    """One step of a document's timeline: who moved it, from what, to what, why."""

    __tablename__ = "document_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    actor_party_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("parties.id"))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)


ACTIVE_FINGERPRINT_STATUSES = (FingerprintStatus.UNIQUE, FingerprintStatus.FINANCED)
_ACTIVE = text("status IN ('unique', 'financed')")


class FingerprintRecord(Base):
    """A document's duplicate-detection keys (``registry.fingerprints``).

    At most one *active* (unique or financed) row per primary fingerprint: the
    partial unique index turns a registration race into the same 409 as the check.
    The counterparty's copy of a document (a buyer registering the purchase order
    its seller registered) is kept as ``duplicate`` (or ``duplicate_of_financed``)
    with ``duplicate_of_id`` set; a party registering its own document twice is
    refused. ``similar_to_id`` flags a secondary-key match for review.
    """

    __tablename__ = "fingerprints"
    __table_args__ = (
        Index(
            "uq_fingerprints_active",
            "fingerprint",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id"), primary_key=True
    )
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    status: Mapped[str] = mapped_column(String(32))
    similarity_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    lines_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    similar_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("documents.id")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class Financing(Base):
    """An invoice financed: the UNIQUE fingerprint means financed at most once."""

    __tablename__ = "financings"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id"), unique=True
    )
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    nullifier: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    funder_party_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("parties.id"))
    source: Mapped[str] = mapped_column(String(16), default="recorded")
    """``recorded`` by a funder, or ``claim_sale``: the first sale of the claim."""
    financed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class AnchorOutbox(Base):
    """A document root waiting to be anchored (contract: module docstring)."""

    __tablename__ = "anchor_outbox"
    __table_args__ = (Index("ix_anchor_outbox_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id"), unique=True
    )
    document_root: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    batch_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class IdempotencyKey(Base):
    """A POST's ``Idempotency-Key``: claimed first, then completed with a response."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("party_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parties.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    state: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class Grant(Base):
    """Read access to one document for a party (an auditor or a funder)."""

    __tablename__ = "grants"
    __table_args__ = (UniqueConstraint("document_id", "party_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parties.id"), index=True)
    granted_by_party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parties.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
