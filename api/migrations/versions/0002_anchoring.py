"""Anchoring pipeline: chain transactions, batches, nonces, nullifiers, checkpoints.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 14:00:00

Tables of ``api.anchoring.models``; see that module for their invariants.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_LIVE = sa.text("status IN ('submitted', 'mined', 'final')")


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, api.models.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "chain_transactions",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("to_address", sa.String(length=42), nullable=False),
        sa.Column("call_data", sa.LargeBinary(), nullable=False),
        sa.Column("gas_limit", sa.BigInteger(), nullable=False),
        sa.Column("max_fee_per_gas", sa.BigInteger(), nullable=False),
        sa.Column("max_priority_fee_per_gas", sa.BigInteger(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("previous_hashes", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("mined_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _at("signed_at"),
        _at("sent_at", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_transactions")),
        sa.UniqueConstraint(
            "signer", "nonce", name=op.f("uq_chain_transactions_signer_nonce")
        ),
    )
    op.create_index(
        op.f("ix_chain_transactions_tx_hash"), "chain_transactions", ["tx_hash"]
    )
    op.create_index(
        "ix_chain_transactions_status_signer",
        "chain_transactions",
        ["status", "signer"],
    )

    op.create_table(
        "anchor_batches",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("batch_root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("document_roots", sa.LargeBinary(), nullable=False),
        sa.Column("chain_transaction_id", _BIG_ID, nullable=False),
        sa.Column("onchain_batch_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.ForeignKeyConstraint(
            ["chain_transaction_id"],
            ["chain_transactions.id"],
            name=op.f("fk_anchor_batches_chain_transaction_id_chain_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anchor_batches")),
        sa.UniqueConstraint(
            "chain_transaction_id",
            name=op.f("uq_anchor_batches_chain_transaction_id"),
        ),
    )
    op.create_index(
        "uq_anchor_batches_live_root",
        "anchor_batches",
        ["batch_root"],
        unique=True,
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )

    op.create_table(
        "nullifier_publications",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("nullifier", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("chain_transaction_id", _BIG_ID, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.ForeignKeyConstraint(
            ["chain_transaction_id"],
            ["chain_transactions.id"],
            name=op.f(
                "fk_nullifier_publications_chain_transaction_id_chain_transactions"
            ),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nullifier_publications")),
        sa.UniqueConstraint(
            "nullifier", name=op.f("uq_nullifier_publications_nullifier")
        ),
    )
    op.create_index(
        op.f("ix_nullifier_publications_chain_transaction_id"),
        "nullifier_publications",
        ["chain_transaction_id"],
    )
    op.create_index(
        "ix_nullifier_publications_status_id",
        "nullifier_publications",
        ["status", "id"],
    )

    op.create_table(
        "signer_nonces",
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("next_nonce", sa.BigInteger(), nullable=False),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("signer", name=op.f("pk_signer_nonces")),
    )
    op.create_table(
        "chain_checkpoints",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("next_block", sa.BigInteger(), nullable=False),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_chain_checkpoints")),
    )
    op.create_table(
        "chain_deployments",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        _at("recorded_at"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_chain_deployments")),
    )


def downgrade() -> None:
    op.drop_table("chain_deployments")
    op.drop_table("chain_checkpoints")
    op.drop_table("signer_nonces")
    op.drop_index(
        "ix_nullifier_publications_status_id", table_name="nullifier_publications"
    )
    op.drop_index(
        op.f("ix_nullifier_publications_chain_transaction_id"),
        table_name="nullifier_publications",
    )
    op.drop_table("nullifier_publications")
    op.drop_index("uq_anchor_batches_live_root", table_name="anchor_batches")
    op.drop_table("anchor_batches")
    op.drop_index(
        "ix_chain_transactions_status_signer", table_name="chain_transactions"
    )
    op.drop_index(
        op.f("ix_chain_transactions_tx_hash"), table_name="chain_transactions"
    )
    op.drop_table("chain_transactions")
