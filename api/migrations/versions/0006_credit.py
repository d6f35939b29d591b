"""Credit: party attributes (industry, keyed identity attributes).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 17:00:00

Tables of ``api.credit.models``; see that module for their invariants.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "party_attributes",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value_key", sa.LargeBinary(length=32), nullable=True),
        sa.Column("value", sa.String(length=64), nullable=True),
        sa.Column("created_at", api.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["parties.id"],
            name=op.f("fk_party_attributes_party_id_parties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_attributes")),
    )
    op.create_index(
        op.f("ix_party_attributes_party_id"),
        "party_attributes",
        ["party_id"],
        unique=False,
    )
    op.create_index(
        "ix_party_attributes_kind_value_key",
        "party_attributes",
        ["kind", "value_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_party_attributes_kind_value_key", table_name="party_attributes")
    op.drop_index(op.f("ix_party_attributes_party_id"), table_name="party_attributes")
    op.drop_table("party_attributes")
