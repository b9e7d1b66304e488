from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import new_metadata, utcnow
from servicekit.types import UTCDateTime

Quantity = sa.Numeric(24, 8)
Money = sa.Numeric(24, 8)


class Base(DeclarativeBase):
    metadata = new_metadata()


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ItemView(Base):
    """Inventory's items as recipes needs them, kept from `ItemChanged` (inventory owns them).

    `updated_at` is the time of the event the row was last written from, not of the write, so a
    late-delivered older event can be recognised and ignored.
    """

    __tablename__ = "item_view"

    item_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[str] = mapped_column(sa.String(20))
    default_unit: Mapped[str] = mapped_column(sa.String(32))
    count_unit: Mapped[str | None] = mapped_column(sa.String(32))
    sku: Mapped[str | None] = mapped_column(sa.String(100))
    # Unbounded NUMERIC: the copy keeps exactly the digits inventory sent.
    density_g_per_ml: Mapped[Decimal | None] = mapped_column(sa.Numeric())
    unit_cost: Mapped[Decimal | None] = mapped_column(sa.Numeric())
    allergens: Mapped[list[str]] = mapped_column(sa.JSON())
    nutrition_per_100g: Mapped[dict[str, str] | None] = mapped_column(sa.JSON())
    category_name: Mapped[str | None] = mapped_column(sa.String(200))
    supplier_name: Mapped[str | None] = mapped_column(sa.String(200))
    purchase_unit: Mapped[str | None] = mapped_column(sa.String(32))
    purchase_quantity: Mapped[Decimal | None] = mapped_column(sa.Numeric())
    purchase_price: Mapped[Decimal | None] = mapped_column(sa.Numeric())
    shelf_life_days: Mapped[int | None]
    archived: Mapped[bool] = mapped_column(sa.Boolean())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecipeCategory(Timestamps, Base):
    __tablename__ = "recipe_category"
    __table_args__ = (sa.UniqueConstraint("org_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.Text())


class Recipe(Timestamps, Base):
    """The current version of a recipe. Every change raises `version` and keeps the version's
    full definition in `RecipeVersion`."""

    __tablename__ = "recipe"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "name"),
        sa.UniqueConstraint("org_id", "label_prefix"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    label_prefix: Mapped[str] = mapped_column(sa.String(12))
    description: Mapped[str | None] = mapped_column(sa.Text())
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("recipe_category.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    yield_quantity: Mapped[Decimal] = mapped_column(Quantity)
    yield_unit: Mapped[str] = mapped_column(sa.String(32))
    # Lets a sub-recipe be measured by volume when it yields weight, or the other way round.
    yield_density_g_per_ml: Mapped[Decimal | None] = mapped_column(Quantity)
    is_portioned: Mapped[bool] = mapped_column(default=False)
    portion_name: Mapped[str | None] = mapped_column(sa.String(50))
    portion_count: Mapped[Decimal | None] = mapped_column(Quantity)
    prep_time_min: Mapped[int | None]
    cook_time_min: Mapped[int | None]
    instructions: Mapped[str | None] = mapped_column(sa.Text())
    selling_price: Mapped[Decimal | None] = mapped_column(Money)
    target_cost_pct: Mapped[Decimal | None] = mapped_column(sa.Numeric(7, 3))
    batch_type: Mapped[str] = mapped_column(sa.String(12), default="product")
    output_item_id: Mapped[uuid.UUID | None]
    archived: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))


class RecipeLine(Base):
    """One line of a recipe: an item (ingredient, consumable or container) or a sub-recipe,
    measured in `unit` (for a sub-recipe, a unit of its yield)."""

    __tablename__ = "recipe_line"
    __table_args__ = (
        sa.CheckConstraint("(item_id IS NULL) <> (sub_recipe_id IS NULL)",
                           name="item_or_sub_recipe"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    recipe_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("recipe.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    role: Mapped[str] = mapped_column(sa.String(12))  # ingredient | consumable | container
    item_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    sub_recipe_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("recipe.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(sa.String(32))
    notes: Mapped[str | None] = mapped_column(sa.String(500))


class RecipeVersion(Base):
    """A version of a recipe as it was written, kept for plans and batches that name it."""

    __tablename__ = "recipe_version"
    __table_args__ = (sa.UniqueConstraint("recipe_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    recipe_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("recipe.id", ondelete="CASCADE"))
    version: Mapped[int]
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON())
    change: Mapped[str] = mapped_column(sa.String(20))  # created | updated | archived | restored
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))


class Bom(Base):
    """A saved bill of materials: what to buy for a production run, as generated."""

    __tablename__ = "bom"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    date: Mapped[date | None] = mapped_column(sa.Date())
    recipes: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON())
    lines: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON())
    total_cost: Mapped[Decimal] = mapped_column(Money)
    total_purchase_cost: Mapped[Decimal] = mapped_column(Money)
    cost_complete: Mapped[bool]
    problems: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON(), default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))
