"""Items' purchase packs: bought in packs of purchase_quantity purchase_unit at purchase_price

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite alters a table by copying it: batch mode does that there, plain ALTERs elsewhere.
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("purchase_unit", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("purchase_quantity", sa.Numeric(precision=24, scale=8), nullable=True)
        )
        batch.add_column(
            sa.Column("purchase_price", sa.Numeric(precision=24, scale=8), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.drop_column("purchase_price")
        batch.drop_column("purchase_quantity")
        batch.drop_column("purchase_unit")
