"""Claims: the projection of ClaimToken events, the offers book, scanned block hashes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 16:00:00

Tables of ``api.claims.models``; see that module for their invariants.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, api.models.UtcDateTime(timezone=True), nullable=nullable)


def _amount(name: str) -> sa.Column[object]:
    return sa.Column(
        name, api.models.MinorAmount(precision=78, scale=0), nullable=False
    )


def _hash(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.LargeBinary(length=32), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "claims",
        _hash("claim_id"),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("seller", sa.String(length=42), nullable=False),
        sa.Column("obligor", sa.String(length=42), nullable=False),
        sa.Column("currency", sa.String(length=42), nullable=False),
        _amount("face_value"),
        sa.Column("due_date", sa.BigInteger(), nullable=False),
        _hash("batch_root"),
        _amount("units_sold"),
        _amount("repaid"),
        _amount("paid_out"),
        _amount("units_redeemed"),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("confirmed_block", sa.BigInteger(), nullable=False),
        _hash("confirmed_tx"),
        _at("updated_at"),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_claims_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_claims")),
        sa.UniqueConstraint("document_id", name=op.f("uq_claims_document_id")),
    )
    op.create_index(op.f("ix_claims_seller"), "claims", ["seller"])
    op.create_index(op.f("ix_claims_obligor"), "claims", ["obligor"])

    op.create_table(
        "claim_holdings",
        _hash("claim_id"),
        sa.Column("holder", sa.String(length=42), nullable=False),
        _amount("units"),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.claim_id"],
            name=op.f("fk_claim_holdings_claim_id_claims"),
        ),
        sa.PrimaryKeyConstraint("claim_id", "holder", name=op.f("pk_claim_holdings")),
    )
    op.create_index(op.f("ix_claim_holdings_holder"), "claim_holdings", ["holder"])

    op.create_table(
        "claim_events",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        _hash("claim_id"),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        _hash("block_hash"),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        _hash("tx_hash"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_events")),
        sa.UniqueConstraint(
            "block_hash",
            "log_index",
            "claim_id",
            name=op.f("uq_claim_events_block_hash_log_index_claim_id"),
        ),
    )
    op.create_index(
        "ix_claim_events_claim_order",
        "claim_events",
        ["claim_id", "block_number", "log_index"],
    )
    op.create_index(
        op.f("ix_claim_events_block_number"), "claim_events", ["block_number"]
    )

    op.create_table(
        "claim_offers",
        sa.Column("id", sa.Uuid(), nullable=False),
        _hash("claim_id"),
        sa.Column("seller", sa.String(length=42), nullable=False),
        sa.Column("buyer", sa.String(length=42), nullable=False),
        _amount("units"),
        _amount("price"),
        _amount("daily_rate"),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("deadline", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=65), nullable=False),
        _hash("offer_hash"),
        _amount("units_filled"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_party_id", sa.Uuid(), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["created_by_party_id"],
            ["parties.id"],
            name=op.f("fk_claim_offers_created_by_party_id_parties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_offers")),
        sa.UniqueConstraint("offer_hash", name=op.f("uq_claim_offers_offer_hash")),
    )
    op.create_index(
        "ix_claim_offers_claim_seller", "claim_offers", ["claim_id", "seller"]
    )

    op.create_table(
        "chain_block_hashes",
        sa.Column("scan", sa.String(length=128), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        _hash("block_hash"),
        sa.PrimaryKeyConstraint(
            "scan", "block_number", name=op.f("pk_chain_block_hashes")
        ),
    )


def downgrade() -> None:
    op.drop_table("chain_block_hashes")
    op.drop_index("ix_claim_offers_claim_seller", table_name="claim_offers")
    op.drop_table("claim_offers")
    op.drop_index(op.f("ix_claim_events_block_number"), table_name="claim_events")
    op.drop_index("ix_claim_events_claim_order", table_name="claim_events")
    op.drop_table("claim_events")
    op.drop_index(op.f("ix_claim_holdings_holder"), table_name="claim_holdings")
    op.drop_table("claim_holdings")
    op.drop_index(op.f("ix_claims_obligor"), table_name="claims")
    op.drop_index(op.f("ix_claims_seller"), table_name="claims")
    op.drop_table("claims")
