"""Financings: how the invoice was financed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 15:00:00

``financings.source`` is ``recorded`` for a financing a funder recorded itself
(``POST /v1/documents/{id}/financings``) and ``claim_sale`` for one made by the first
sale of the invoice's claim. Later sales of the same claim are allowed only while the
invoice's financing is its own ``claim_sale``: an invoice financed any other way can
not be sold again. Rows written before this revision were recorded by funders.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("financings") as batch:
        batch.add_column(
            sa.Column(
                "source", sa.String(16), nullable=False, server_default="recorded"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("financings") as batch:
        batch.drop_column("source")
