"""Tables of the notifications package (on :class:`api.models.Base`).

``notification_events`` mirrors the notifiable rows of ``document_events``: at most
one row per document event (UNIQUE ``document_event_id``). ``seq`` is the feed's
position: NULL when the row is written, then set by the sequencer
(:func:`api.notifications.service.sequence_events`) in batches that hold the single
``notification_state`` row lock, so sequence numbers become visible strictly in
ascending order, without gaps. ``public_id`` is the event id receivers dedupe on.

``webhook_deliveries`` is a transactional outbox: one row per (subscription, event),
written in the transaction that writes the event; status ``pending`` until a 2xx
answer (``delivered``) or the last attempt (``failed``).
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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base, BigId, UtcDateTime, utc_now

_UNSEQUENCED = text("seq IS NULL")
_PENDING = text("status = 'pending'")


class EventType(StrEnum):
    """What happened to a document."""

    DOCUMENT_REGISTERED = "document.registered"
    DOCUMENT_STATUS_CHANGED = "document.status_changed"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class NotificationEvent(Base):
    """A notifiable document event with its feed position (module docstring)."""

    __tablename__ = "notification_events"
    __table_args__ = (
        Index(
            "ix_notification_events_unsequenced",
            "id",
            sqlite_where=_UNSEQUENCED,
            postgresql_where=_UNSEQUENCED,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    document_event_id: Mapped[int] = mapped_column(
        ForeignKey("document_events.id"), unique=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id"), index=True
    )
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class NotificationState(Base):
    """The single row (``id = 1``) whose lock serialises sequencing and backfill."""

    __tablename__ = "notification_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    backfilled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebhookSubscription(Base):
    """A party's webhook endpoint; its signing secret is stored encrypted."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parties.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[str | None] = mapped_column(Text)
    """Comma-separated event types; NULL means every type."""
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebhookDelivery(Base):
    """One event to send to one subscription (outbox contract: module docstring)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id")
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("notification_events.id"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
