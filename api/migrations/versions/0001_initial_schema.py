"""Initial schema: parties, credentials, documents, fingerprints, outbox, idempotency.

Revision ID: 0001
Revises:
Create Date: 2026-12-03 13:21:33.393729
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "parties",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("tax_id", sa.String(length=64), nullable=True),
        sa.Column("eth_address", sa.String(length=42), nullable=True),
        sa.Column("created_at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
        sa.UniqueConstraint("eth_address", name=op.f("uq_parties_eth_address")),
        sa.UniqueConstraint("role", "tax_id", name=op.f("uq_parties_role_tax_id")),
    )
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parties_tax_id"), ["tax_id"], unique=False)

    op.create_table(
        "credentials",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", api.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_credentials_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_credentials_token_hash")),
    )
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credentials_party_id"), ["party_id"], unique=False
        )

    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=True),
        sa.Column("buyer_id", sa.Uuid(), nullable=True),
        sa.Column("registered_by_party_id", sa.Uuid(), nullable=False),
        sa.Column("seller_tax_id", sa.String(length=64), nullable=False),
        sa.Column("buyer_tax_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column(
            "total_minor", api.models.MinorAmount(precision=78, scale=0), nullable=True
        ),
        sa.Column("content_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("document_root", sa.LargeBinary(length=32), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("salts", sa.LargeBinary(), nullable=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("erased_at", api.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["parties.id"], name=op.f("fk_documents_buyer_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["registered_by_party_id"],
            ["parties.id"],
            name=op.f("fk_documents_registered_by_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["parties.id"], name=op.f("fk_documents_seller_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_documents_buyer_listing",
            ["buyer_tax_id", "kind", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_documents_lookup", ["seller_tax_id", "kind", "number"], unique=False
        )
        batch_op.create_index(
            "ix_documents_registered_by",
            ["registered_by_party_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_documents_seller_listing",
            ["seller_id", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "idempotency_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["parties.id"],
            name=op.f("fk_idempotency_keys_party_id_parties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint(
            "party_id", "key", name=op.f("uq_idempotency_keys_party_id_key")
        ),
    )
    op.create_table(
        "anchor_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("document_root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_anchor_outbox_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anchor_outbox")),
        sa.UniqueConstraint("document_id", name=op.f("uq_anchor_outbox_document_id")),
    )
    with op.batch_alter_table("anchor_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_anchor_outbox_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_index(
            "ix_anchor_outbox_status_id", ["status", "id"], unique=False
        )

    op.create_table(
        "document_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor_party_id", sa.Uuid(), nullable=True),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_party_id"],
            ["parties.id"],
            name=op.f("fk_document_events_actor_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_events_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_events")),
    )
    with op.batch_alter_table("document_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_events_document_id"), ["document_id"], unique=False
        )

    op.create_table(
        "document_links",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("relation", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_links_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["documents.id"],
            name=op.f("fk_document_links_target_id_documents"),
        ),
        sa.PrimaryKeyConstraint(
            "document_id", "target_id", name=op.f("pk_document_links")
        ),
    )
    with op.batch_alter_table("document_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_links_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "financings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(length=32), nullable=False),
        sa.Column("nullifier", sa.LargeBinary(length=32), nullable=False),
        sa.Column("funder_party_id", sa.Uuid(), nullable=True),
        sa.Column("financed_at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_financings_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["funder_party_id"],
            ["parties.id"],
            name=op.f("fk_financings_funder_party_id_parties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_financings")),
        sa.UniqueConstraint("document_id", name=op.f("uq_financings_document_id")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_financings_fingerprint")),
        sa.UniqueConstraint("nullifier", name=op.f("uq_financings_nullifier")),
    )
    op.create_table(
        "fingerprints",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("similarity_key", sa.LargeBinary(length=32), nullable=True),
        sa.Column("lines_key", sa.LargeBinary(length=32), nullable=True),
        sa.Column("similar_to_id", sa.Uuid(), nullable=True),
        sa.Column("duplicate_of_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_fingerprints_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["documents.id"],
            name=op.f("fk_fingerprints_duplicate_of_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["similar_to_id"],
            ["documents.id"],
            name=op.f("fk_fingerprints_similar_to_id_documents"),
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_fingerprints")),
    )
    with op.batch_alter_table("fingerprints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fingerprints_fingerprint"), ["fingerprint"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fingerprints_lines_key"), ["lines_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fingerprints_similarity_key"),
            ["similarity_key"],
            unique=False,
        )
        batch_op.create_index(
            "uq_fingerprints_active",
            ["fingerprint"],
            unique=True,
            sqlite_where=sa.text("status IN ('unique', 'financed')"),
            postgresql_where=sa.text("status IN ('unique', 'financed')"),
        )

    op.create_table(
        "grants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("granted_by_party_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_grants_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_party_id"],
            ["parties.id"],
            name=op.f("fk_grants_granted_by_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_grants_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
        sa.UniqueConstraint(
            "document_id", "party_id", name=op.f("uq_grants_document_id_party_id")
        ),
    )
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grants_party_id"), ["party_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grants_party_id"))

    op.drop_table("grants")
    with op.batch_alter_table("fingerprints", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_fingerprints_active",
            sqlite_where=sa.text("status IN ('unique', 'financed')"),
            postgresql_where=sa.text("status IN ('unique', 'financed')"),
        )
        batch_op.drop_index(batch_op.f("ix_fingerprints_similarity_key"))
        batch_op.drop_index(batch_op.f("ix_fingerprints_lines_key"))
        batch_op.drop_index(batch_op.f("ix_fingerprints_fingerprint"))

    op.drop_table("fingerprints")
    op.drop_table("financings")
    with op.batch_alter_table("document_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_links_target_id"))

    op.drop_table("document_links")
    with op.batch_alter_table("document_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_events_document_id"))

    op.drop_table("document_events")
    with op.batch_alter_table("anchor_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_anchor_outbox_status_id")
        batch_op.drop_index(batch_op.f("ix_anchor_outbox_batch_id"))

    op.drop_table("anchor_outbox")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_seller_listing")
        batch_op.drop_index("ix_documents_registered_by")
        batch_op.drop_index("ix_documents_lookup")
        batch_op.drop_index("ix_documents_buyer_listing")

    op.drop_table("documents")
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_party_id"))

    op.drop_table("credentials")
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parties_tax_id"))

    op.drop_table("parties")
