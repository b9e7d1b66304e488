"""Recipes with lines, versions and categories; saved bills of materials; the item read
model gains count unit, names, nutrition, purchase packs and shelf life

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:07:34.502948
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
        "bom",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("recipes", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("total_cost", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("total_purchase_cost", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("cost_complete", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bom")),
    )
    op.create_index(op.f("ix_bom_created_at"), "bom", ["created_at"], unique=False)
    op.create_index(op.f("ix_bom_org_id"), "bom", ["org_id"], unique=False)
    op.create_table(
        "recipe_category",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe_category")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_recipe_category_org_id_name")),
    )
    op.create_index(op.f("ix_recipe_category_org_id"), "recipe_category", ["org_id"], unique=False)
    op.create_table(
        "recipe",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("label_prefix", sa.String(length=12), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("yield_quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("yield_unit", sa.String(length=32), nullable=False),
        sa.Column("yield_density_g_per_ml", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("is_portioned", sa.Boolean(), nullable=False),
        sa.Column("portion_name", sa.String(length=50), nullable=True),
        sa.Column("portion_count", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("prep_time_min", sa.Integer(), nullable=True),
        sa.Column("cook_time_min", sa.Integer(), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("selling_price", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("target_cost_pct", sa.Numeric(precision=7, scale=3), nullable=True),
        sa.Column("batch_type", sa.String(length=12), nullable=False),
        sa.Column("output_item_id", sa.Uuid(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["recipe_category.id"],
            name=op.f("fk_recipe_category_id_recipe_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe")),
        sa.UniqueConstraint("org_id", "label_prefix", name=op.f("uq_recipe_org_id_label_prefix")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_recipe_org_id_name")),
    )
    op.create_index(op.f("ix_recipe_category_id"), "recipe", ["category_id"], unique=False)
    op.create_index(op.f("ix_recipe_org_id"), "recipe", ["org_id"], unique=False)
    op.create_table(
        "recipe_line",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("recipe_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=True),
        sa.Column("sub_recipe_id", sa.Uuid(), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("notes", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "(item_id IS NULL) <> (sub_recipe_id IS NULL)",
            name=op.f("ck_recipe_line_item_or_sub_recipe"),
        ),
        sa.ForeignKeyConstraint(
            ["recipe_id"],
            ["recipe.id"],
            name=op.f("fk_recipe_line_recipe_id_recipe"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sub_recipe_id"], ["recipe.id"], name=op.f("fk_recipe_line_sub_recipe_id_recipe")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe_line")),
    )
    op.create_index(op.f("ix_recipe_line_item_id"), "recipe_line", ["item_id"], unique=False)
    op.create_index(op.f("ix_recipe_line_org_id"), "recipe_line", ["org_id"], unique=False)
    op.create_index(op.f("ix_recipe_line_recipe_id"), "recipe_line", ["recipe_id"], unique=False)
    op.create_index(
        op.f("ix_recipe_line_sub_recipe_id"), "recipe_line", ["sub_recipe_id"], unique=False
    )
    op.create_table(
        "recipe_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("recipe_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipe_id"],
            ["recipe.id"],
            name=op.f("fk_recipe_version_recipe_id_recipe"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe_version")),
        sa.UniqueConstraint(
            "recipe_id", "version", name=op.f("uq_recipe_version_recipe_id_version")
        ),
    )
    op.create_index(op.f("ix_recipe_version_org_id"), "recipe_version", ["org_id"], unique=False)
    op.add_column("item_view", sa.Column("count_unit", sa.String(length=32), nullable=True))
    op.add_column("item_view", sa.Column("nutrition_per_100g", sa.JSON(), nullable=True))
    op.add_column("item_view", sa.Column("category_name", sa.String(length=200), nullable=True))
    op.add_column("item_view", sa.Column("supplier_name", sa.String(length=200), nullable=True))
    op.add_column("item_view", sa.Column("purchase_unit", sa.String(length=32), nullable=True))
    op.add_column("item_view", sa.Column("purchase_quantity", sa.Numeric(), nullable=True))
    op.add_column("item_view", sa.Column("purchase_price", sa.Numeric(), nullable=True))
    op.add_column("item_view", sa.Column("shelf_life_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("item_view", "shelf_life_days")
    op.drop_column("item_view", "purchase_price")
    op.drop_column("item_view", "purchase_quantity")
    op.drop_column("item_view", "purchase_unit")
    op.drop_column("item_view", "supplier_name")
    op.drop_column("item_view", "category_name")
    op.drop_column("item_view", "nutrition_per_100g")
    op.drop_column("item_view", "count_unit")
    op.drop_index(op.f("ix_recipe_version_org_id"), table_name="recipe_version")
    op.drop_table("recipe_version")
    op.drop_index(op.f("ix_recipe_line_sub_recipe_id"), table_name="recipe_line")
    op.drop_index(op.f("ix_recipe_line_recipe_id"), table_name="recipe_line")
    op.drop_index(op.f("ix_recipe_line_org_id"), table_name="recipe_line")
    op.drop_index(op.f("ix_recipe_line_item_id"), table_name="recipe_line")
    op.drop_table("recipe_line")
    op.drop_index(op.f("ix_recipe_org_id"), table_name="recipe")
    op.drop_index(op.f("ix_recipe_category_id"), table_name="recipe")
    op.drop_table("recipe")
    op.drop_index(op.f("ix_recipe_category_org_id"), table_name="recipe_category")
    op.drop_table("recipe_category")
    op.drop_index(op.f("ix_bom_org_id"), table_name="bom")
    op.drop_index(op.f("ix_bom_created_at"), table_name="bom")
    op.drop_table("bom")
