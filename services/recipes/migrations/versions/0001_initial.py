"""Initial schema: the read model of inventory's items, and the outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from servicekit.messaging.tables import create_messaging_tables, drop_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "item_view",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("default_unit", sa.String(32), nullable=False),
        sa.Column("sku", sa.String(100), nullable=True),
        sa.Column("density_g_per_ml", sa.Numeric(), nullable=True),
        sa.Column("unit_cost", sa.Numeric(), nullable=True),
        sa.Column("allergens", sa.JSON(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_view")),
    )
    op.create_index(op.f("ix_item_view_org_id"), "item_view", ["org_id"])


def downgrade() -> None:
    op.drop_table("item_view")
    drop_messaging_tables()
