"""Batches: the batch, its lines, consumption, outputs and container adjustments; idempotent
requests and the per-day code sequence

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:09:15.881203
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("recipe_id", sa.Uuid(), nullable=False),
        sa.Column("recipe_version", sa.Integer(), nullable=False),
        sa.Column("recipe_name", sa.String(length=200), nullable=True),
        sa.Column("batch_type", sa.String(length=20), nullable=False),
        sa.Column("output_item_id", sa.Uuid(), nullable=True),
        sa.Column("plan_snapshot", sa.JSON(), nullable=False),
        sa.Column("scale", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("projected_yield", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("projected_yield_unit", sa.String(length=32), nullable=False),
        sa.Column("is_portioned", sa.Boolean(), nullable=False),
        sa.Column("portion_name", sa.String(length=50), nullable=True),
        sa.Column("portion_count", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("estimated_cost", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("cost_complete", sa.Boolean(), nullable=False),
        sa.Column("actual_cost", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("shortages", sa.JSON(), nullable=True),
        sa.Column("yield_quantity", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("yield_unit", sa.String(length=32), nullable=True),
        sa.Column("waste_quantity", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("waste_unit", sa.String(length=32), nullable=True),
        sa.Column("waste_notes", sa.Text(), nullable=True),
        sa.Column("batch_notes", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("parent_batch_id", sa.Uuid(), nullable=True),
        sa.Column("variant_output", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deducted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'in_progress', 'failed', 'finished', 'cancelling', 'cancelled')",
            name=op.f("ck_batch_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_batch_id"], ["batch.id"], name=op.f("fk_batch_parent_batch_id_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_batch_org_id_code")),
    )
    op.create_index("ix_batch_org_id_created_at", "batch", ["org_id", "created_at"], unique=False)
    op.create_index(
        "ix_batch_org_id_parent_batch_id", "batch", ["org_id", "parent_batch_id"], unique=False
    )
    op.create_index("ix_batch_org_id_recipe_id", "batch", ["org_id", "recipe_id"], unique=False)
    op.create_index("ix_batch_org_id_status", "batch", ["org_id", "status"], unique=False)
    op.create_table(
        "batch_code_sequence",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "prefix", "day", name=op.f("pk_batch_code_sequence")),
    )
    op.create_table(
        "idempotent_request",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("batch_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "key", "endpoint", name=op.f("pk_idempotent_request")),
    )
    op.create_table(
        "batch_consumption",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("lot_number", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("cost", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_batch_consumption_batch_id_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_consumption")),
    )
    op.create_index(
        op.f("ix_batch_consumption_batch_id"), "batch_consumption", ["batch_id"], unique=False
    )
    op.create_table(
        "batch_line",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("estimated_cost", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_batch_line_batch_id_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_line")),
    )
    op.create_index(op.f("ix_batch_line_batch_id"), "batch_line", ["batch_id"], unique=False)
    op.create_table(
        "batch_output",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("cost", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("cost_share", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("lot_number", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_batch_output_batch_id_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_output")),
    )
    op.create_index(op.f("ix_batch_output_batch_id"), "batch_output", ["batch_id"], unique=False)
    op.create_table(
        "container_adjustment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("container_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_container_adjustment_batch_id_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_container_adjustment")),
    )
    op.create_index(
        op.f("ix_container_adjustment_batch_id"), "container_adjustment", ["batch_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_container_adjustment_batch_id"), table_name="container_adjustment")
    op.drop_table("container_adjustment")
    op.drop_index(op.f("ix_batch_output_batch_id"), table_name="batch_output")
    op.drop_table("batch_output")
    op.drop_index(op.f("ix_batch_line_batch_id"), table_name="batch_line")
    op.drop_table("batch_line")
    op.drop_index(op.f("ix_batch_consumption_batch_id"), table_name="batch_consumption")
    op.drop_table("batch_consumption")
    op.drop_table("idempotent_request")
    op.drop_table("batch_code_sequence")
    op.drop_index("ix_batch_org_id_status", table_name="batch")
    op.drop_index("ix_batch_org_id_recipe_id", table_name="batch")
    op.drop_index("ix_batch_org_id_parent_batch_id", table_name="batch")
    op.drop_index("ix_batch_org_id_created_at", table_name="batch")
    op.drop_table("batch")
