"""Items in full; locations, suppliers, categories, lots, the ledger, reservations,
counts, purchase bills and idempotent requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:45:39.414721
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
        "category",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_category_org_id_name")),
    )
    op.create_index(op.f("ix_category_org_id"), "category", ["org_id"], unique=False)
    op.create_table(
        "idempotent_request",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "key", "endpoint", name=op.f("pk_idempotent_request")),
    )
    op.create_table(
        "location",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_location_org_id_name")),
    )
    op.create_index(op.f("ix_location_org_id"), "location", ["org_id"], unique=False)
    op.create_table(
        "supplier",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_supplier_org_id_name")),
    )
    op.create_index(op.f("ix_supplier_org_id"), "supplier", ["org_id"], unique=False)
    op.create_table(
        "inventory_count",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_inventory_count_location_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_count")),
    )
    op.create_index(op.f("ix_inventory_count_org_id"), "inventory_count", ["org_id"], unique=False)
    op.create_table(
        "purchase_bill",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column("bill_number", sa.String(length=100), nullable=True),
        sa.Column("billed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_cost", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["supplier.id"], name=op.f("fk_purchase_bill_supplier_id_supplier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_bill")),
    )
    op.create_index(op.f("ix_purchase_bill_org_id"), "purchase_bill", ["org_id"], unique=False)
    op.create_table(
        "lot",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("lot_number", sa.String(length=100), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column("purchase_bill_id", sa.Uuid(), nullable=True),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unit_cost", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("quantity_received", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("quantity_remaining", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("quarantined", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "quantity_remaining >= 0", name=op.f("ck_lot_quantity_remaining_not_negative")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_lot_item_id_item")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_lot_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_bill_id"],
            ["purchase_bill.id"],
            name=op.f("fk_lot_purchase_bill_id_purchase_bill"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["supplier.id"], name=op.f("fk_lot_supplier_id_supplier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot")),
    )
    op.create_index(op.f("ix_lot_batch_id"), "lot", ["batch_id"], unique=False)
    op.create_index(op.f("ix_lot_org_id"), "lot", ["org_id"], unique=False)
    op.create_index(
        "ix_lot_org_id_item_id_received_at",
        "lot",
        ["org_id", "item_id", "received_at"],
        unique=False,
    )
    op.create_table(
        "reservation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=True),
        sa.Column("order_reference", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_reservation_item_id_item")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservation")),
    )
    op.create_index(op.f("ix_reservation_org_id"), "reservation", ["org_id"], unique=False)
    op.create_table(
        "count_line",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("count_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("expected_quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("counted_quantity", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["inventory_count.id"],
            name=op.f("fk_count_line_count_id_inventory_count"),
        ),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_count_line_item_id_item")),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_count_line_lot_id_lot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_line")),
        sa.UniqueConstraint("count_id", "lot_id", name=op.f("uq_count_line_count_id_lot_id")),
    )
    op.create_index(op.f("ix_count_line_org_id"), "count_line", ["org_id"], unique=False)
    op.create_table(
        "movement",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("cost", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("reservation_id", sa.Uuid(), nullable=True),
        sa.Column("count_id", sa.Uuid(), nullable=True),
        sa.Column("purchase_bill_id", sa.Uuid(), nullable=True),
        sa.Column("related_lot_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("correlation_id", sa.String(length=128), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_movement_item_id_item")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_movement_location_id_location")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_movement_lot_id_lot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_movement")),
    )
    op.create_index(op.f("ix_movement_order_id"), "movement", ["order_id"], unique=False)
    op.create_index("ix_movement_org_id_batch_id", "movement", ["org_id", "batch_id"], unique=False)
    op.create_index(
        "ix_movement_org_id_item_id_id", "movement", ["org_id", "item_id", "id"], unique=False
    )
    op.create_index("ix_movement_org_id_lot_id", "movement", ["org_id", "lot_id"], unique=False)
    op.create_table(
        "purchase_bill_line",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("bill_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("line_cost", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["bill_id"],
            ["purchase_bill.id"],
            name=op.f("fk_purchase_bill_line_bill_id_purchase_bill"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_purchase_bill_line_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lot.id"], name=op.f("fk_purchase_bill_line_lot_id_lot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_bill_line")),
    )
    op.create_index(
        op.f("ix_purchase_bill_line_bill_id"), "purchase_bill_line", ["bill_id"], unique=False
    )
    op.create_index(
        op.f("ix_purchase_bill_line_org_id"), "purchase_bill_line", ["org_id"], unique=False
    )
    # SQLite alters a table by copying it: batch mode does that there, plain ALTERs elsewhere.
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch.add_column(sa.Column("category_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("supplier_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("count_unit", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("density_g_per_ml", sa.Numeric(precision=24, scale=8), nullable=True)
        )
        batch.add_column(sa.Column("allergens", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("nutrition_per_100g", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("low_stock_threshold", sa.Numeric(precision=24, scale=8), nullable=True)
        )
        batch.add_column(sa.Column("shelf_life_days", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "consumption_order", sa.String(length=4), nullable=False, server_default="fifo"
            )
        )
        batch.add_column(sa.Column("capacity", sa.Numeric(precision=24, scale=8), nullable=True))
        batch.add_column(sa.Column("capacity_unit", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("sku", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("size", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("price", sa.Numeric(precision=24, scale=8), nullable=True))
        batch.add_column(sa.Column("parent_item_id", sa.Uuid(), nullable=True))
        batch.add_column(
            sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index(
            "uq_item_org_id_sku",
            ["org_id", "sku"],
            unique=True,
            postgresql_where=sa.text("sku IS NOT NULL"),
            sqlite_where=sa.text("sku IS NOT NULL"),
        )
        batch.create_foreign_key(
            op.f("fk_item_category_id_category"), "category", ["category_id"], ["id"]
        )
        batch.create_foreign_key(
            op.f("fk_item_parent_item_id_item"), "item", ["parent_item_id"], ["id"]
        )
        batch.create_foreign_key(
            op.f("fk_item_supplier_id_supplier"), "supplier", ["supplier_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.drop_constraint(op.f("fk_item_supplier_id_supplier"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_item_parent_item_id_item"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_item_category_id_category"), type_="foreignkey")
        batch.drop_index(
            "uq_item_org_id_sku",
            postgresql_where=sa.text("sku IS NOT NULL"),
            sqlite_where=sa.text("sku IS NOT NULL"),
        )
        batch.drop_column("archived")
        batch.drop_column("parent_item_id")
        batch.drop_column("price")
        batch.drop_column("size")
        batch.drop_column("sku")
        batch.drop_column("capacity_unit")
        batch.drop_column("capacity")
        batch.drop_column("consumption_order")
        batch.drop_column("shelf_life_days")
        batch.drop_column("low_stock_threshold")
        batch.drop_column("nutrition_per_100g")
        batch.drop_column("allergens")
        batch.drop_column("density_g_per_ml")
        batch.drop_column("count_unit")
        batch.drop_column("supplier_id")
        batch.drop_column("category_id")
        batch.drop_column("description")
    op.drop_index(op.f("ix_purchase_bill_line_org_id"), table_name="purchase_bill_line")
    op.drop_index(op.f("ix_purchase_bill_line_bill_id"), table_name="purchase_bill_line")
    op.drop_table("purchase_bill_line")
    op.drop_index("ix_movement_org_id_lot_id", table_name="movement")
    op.drop_index("ix_movement_org_id_item_id_id", table_name="movement")
    op.drop_index("ix_movement_org_id_batch_id", table_name="movement")
    op.drop_index(op.f("ix_movement_order_id"), table_name="movement")
    op.drop_table("movement")
    op.drop_index(op.f("ix_count_line_org_id"), table_name="count_line")
    op.drop_table("count_line")
    op.drop_index(op.f("ix_reservation_org_id"), table_name="reservation")
    op.drop_table("reservation")
    op.drop_index("ix_lot_org_id_item_id_received_at", table_name="lot")
    op.drop_index(op.f("ix_lot_org_id"), table_name="lot")
    op.drop_index(op.f("ix_lot_batch_id"), table_name="lot")
    op.drop_table("lot")
    op.drop_index(op.f("ix_purchase_bill_org_id"), table_name="purchase_bill")
    op.drop_table("purchase_bill")
    op.drop_index(op.f("ix_inventory_count_org_id"), table_name="inventory_count")
    op.drop_table("inventory_count")
    op.drop_index(op.f("ix_supplier_org_id"), table_name="supplier")
    op.drop_table("supplier")
    op.drop_index(op.f("ix_location_org_id"), table_name="location")
    op.drop_table("location")
    op.drop_table("idempotent_request")
    op.drop_index(op.f("ix_category_org_id"), table_name="category")
    op.drop_table("category")
