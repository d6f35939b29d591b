"""Notifications: the event feed, webhook subscriptions, the delivery outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 15:00:00

Tables of ``api.notifications.models``; see that module for their invariants. The
single ``notification_state`` row (``id = 1``) is inserted here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UNSEQUENCED = sa.text("seq IS NULL")
_PENDING = sa.text("status = 'pending'")


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, api.models.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notification_events",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("document_event_id", _BIG_ID, nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        _at("occurred_at"),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["document_event_id"],
            ["document_events.id"],
            name=op.f("fk_notification_events_document_event_id_document_events"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_notification_events_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_events")),
        sa.UniqueConstraint(
            "document_event_id", name=op.f("uq_notification_events_document_event_id")
        ),
        sa.UniqueConstraint("public_id", name=op.f("uq_notification_events_public_id")),
        sa.UniqueConstraint("seq", name=op.f("uq_notification_events_seq")),
    )
    op.create_index(
        op.f("ix_notification_events_document_id"),
        "notification_events",
        ["document_id"],
    )
    op.create_index(
        "ix_notification_events_unsequenced",
        "notification_events",
        ["id"],
        sqlite_where=_UNSEQUENCED,
        postgresql_where=_UNSEQUENCED,
    )

    state = op.create_table(
        "notification_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        _at("backfilled_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_state")),
    )
    op.bulk_insert(state, [{"id": 1, "last_seq": 0}])

    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event_types", sa.Text(), nullable=True),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        _at("created_at"),
        _at("deleted_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["parties.id"],
            name=op.f("fk_webhook_subscriptions_party_id_parties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_index(
        op.f("ix_webhook_subscriptions_party_id"),
        "webhook_subscriptions",
        ["party_id"],
    )

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", _BIG_ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at"),
        _at("last_attempt_at", nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        _at("delivered_at", nullable=True),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["notification_events.id"],
            name=op.f("fk_webhook_deliveries_event_id_notification_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "subscription_id",
            "event_id",
            name=op.f("uq_webhook_deliveries_subscription_id_event_id"),
        ),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_event_id"), "webhook_deliveries", ["event_id"]
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_index(
        op.f("ix_webhook_deliveries_event_id"), table_name="webhook_deliveries"
    )
    op.drop_table("webhook_deliveries")
    op.drop_index(
        op.f("ix_webhook_subscriptions_party_id"), table_name="webhook_subscriptions"
    )
    op.drop_table("webhook_subscriptions")
    op.drop_table("notification_state")
    op.drop_index(
        "ix_notification_events_unsequenced", table_name="notification_events"
    )
    op.drop_index(
        op.f("ix_notification_events_document_id"), table_name="notification_events"
    )
    op.drop_table("notification_events")
