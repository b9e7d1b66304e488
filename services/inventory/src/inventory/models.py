"""Inventory's tables. Every row carries `org_id`; quantities and money are exact NUMERICs.

Quantities of an item are stored in the item's `default_unit`; the ledger (`movement`) holds
every change, from which lot and item on-hand can be recomputed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import new_metadata, utcnow
from servicekit.types import UTCDateTime

Quantity = sa.Numeric(24, 8)
Money = sa.Numeric(24, 8)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = new_metadata()


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Category(Timestamps, Base):
    __tablename__ = "category"
    __table_args__ = (sa.UniqueConstraint("org_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str | None] = mapped_column(sa.Text())


class Supplier(Timestamps, Base):
    __tablename__ = "supplier"
    __table_args__ = (sa.UniqueConstraint("org_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    website: Mapped[str | None] = mapped_column(sa.String(500))
    notes: Mapped[str | None] = mapped_column(sa.Text())


class Location(Timestamps, Base):
    """Where lots sit: a workshop, a warehouse, Amazon FBA."""

    __tablename__ = "location"
    __table_args__ = (sa.UniqueConstraint("org_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(20), default="workshop")
    is_default: Mapped[bool] = mapped_column(default=False)


class Item(Timestamps, Base):
    """Anything a maker keeps: ingredients, containers, packaging, consumables, products.

    A product variant (a size or scent of a product) is an item of type product whose
    `parent_item_id` names the product.
    """

    __tablename__ = "item"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "name"),
        sa.Index("uq_item_org_id_sku", "org_id", "sku", unique=True,
                 postgresql_where=sa.text("sku IS NOT NULL"),
                 sqlite_where=sa.text("sku IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[str] = mapped_column(sa.String(20))
    description: Mapped[str | None] = mapped_column(sa.Text())
    category_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("category.id"))
    supplier_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("supplier.id"))
    default_unit: Mapped[str] = mapped_column(sa.String(32))
    count_unit: Mapped[str | None] = mapped_column(sa.String(32))  # "bars", "cookies"
    density_g_per_ml: Mapped[Decimal | None] = mapped_column(Quantity)
    allergens: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    nutrition_per_100g: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    low_stock_threshold: Mapped[Decimal | None] = mapped_column(Quantity)
    shelf_life_days: Mapped[int | None]
    consumption_order: Mapped[str] = mapped_column(sa.String(4), default="fifo")  # fifo|fefo
    capacity: Mapped[Decimal | None] = mapped_column(Quantity)  # containers
    capacity_unit: Mapped[str | None] = mapped_column(sa.String(32))
    sku: Mapped[str | None] = mapped_column(sa.String(100))
    size: Mapped[str | None] = mapped_column(sa.String(100))
    price: Mapped[Decimal | None] = mapped_column(Money)
    parent_item_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("item.id"))
    archived: Mapped[bool] = mapped_column(default=False)
    # How the item is bought: packs of `purchase_quantity` `purchase_unit` (a 25 lb bag) at
    # `purchase_price` each. The unit converts to the default unit; recipes cost from it.
    purchase_unit: Mapped[str | None] = mapped_column(sa.String(32))
    purchase_quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    purchase_price: Mapped[Decimal | None] = mapped_column(Money)


class PurchaseBill(Timestamps, Base):
    __tablename__ = "purchase_bill"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    supplier_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("supplier.id"))
    bill_number: Mapped[str | None] = mapped_column(sa.String(100))
    billed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    total_cost: Mapped[Decimal] = mapped_column(Money)
    notes: Mapped[str | None] = mapped_column(sa.Text())
    created_by: Mapped[str | None] = mapped_column(sa.String(64))


class PurchaseBillLine(Base):
    __tablename__ = "purchase_bill_line"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    bill_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("purchase_bill.id"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("item.id"))
    lot_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("lot.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)  # as billed, in `unit`
    unit: Mapped[str] = mapped_column(sa.String(32))
    unit_cost: Mapped[Decimal] = mapped_column(Money)  # per `unit`
    line_cost: Mapped[Decimal] = mapped_column(Money)


class Lot(Base):
    """A FIFO layer: what was received (or made) at once, at one unit cost.

    `quantity_remaining` is in the item's default unit, and so is `unit_cost` (per one).
    """

    __tablename__ = "lot"
    __table_args__ = (
        sa.CheckConstraint("quantity_remaining >= 0", name="quantity_remaining_not_negative"),
        sa.Index("ix_lot_org_id_item_id_received_at", "org_id", "item_id", "received_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("item.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("location.id"))
    lot_number: Mapped[str] = mapped_column(sa.String(100))
    supplier_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("supplier.id"))
    purchase_bill_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("purchase_bill.id"))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # made by this batch
    source: Mapped[str] = mapped_column(sa.String(20))  # restock|purchase|batch_output|...
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    quantity_received: Mapped[Decimal] = mapped_column(Quantity)
    quantity_remaining: Mapped[Decimal] = mapped_column(Quantity)
    quarantined: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Movement(Base):
    """One line of the stock ledger. `quantity` is signed, in the item's default unit;
    `cost` is signed too (quantity times the lot's unit cost)."""

    __tablename__ = "movement"
    __table_args__ = (
        sa.Index("ix_movement_org_id_item_id_id", "org_id", "item_id", "id"),
        sa.Index("ix_movement_org_id_batch_id", "org_id", "batch_id"),
        sa.Index("ix_movement_org_id_lot_id", "org_id", "lot_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[uuid.UUID] = mapped_column()
    item_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("item.id"))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("lot.id"))
    location_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("location.id"))
    kind: Mapped[str] = mapped_column(sa.String(30))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)
    cost: Mapped[Decimal | None] = mapped_column(Money)
    batch_id: Mapped[uuid.UUID | None]
    order_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    reservation_id: Mapped[uuid.UUID | None]
    count_id: Mapped[uuid.UUID | None]
    purchase_bill_id: Mapped[uuid.UUID | None]
    related_lot_id: Mapped[uuid.UUID | None]  # the other side of a move between lots
    actor: Mapped[str | None] = mapped_column(sa.String(64))  # user id, or "event:<type>"
    reason: Mapped[str | None] = mapped_column(sa.Text())
    correlation_id: Mapped[str | None] = mapped_column(sa.String(128))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reservation(Timestamps, Base):
    __tablename__ = "reservation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("item.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    customer_name: Mapped[str | None] = mapped_column(sa.String(200))
    order_reference: Mapped[str | None] = mapped_column(sa.String(200))
    notes: Mapped[str | None] = mapped_column(sa.Text())
    status: Mapped[str] = mapped_column(sa.String(20), default="active")  # active|released|sold
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InventoryCount(Timestamps, Base):
    __tablename__ = "inventory_count"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    location_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("location.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="open")  # open|completed|cancelled
    notes: Mapped[str | None] = mapped_column(sa.Text())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CountLine(Base):
    __tablename__ = "count_line"
    __table_args__ = (sa.UniqueConstraint("count_id", "lot_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    count_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("inventory_count.id"))
    item_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("item.id"))
    lot_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("lot.id"))
    expected_quantity: Mapped[Decimal] = mapped_column(Quantity)
    counted_quantity: Mapped[Decimal | None] = mapped_column(Quantity)


class IdempotentRequest(Base):
    """A write answered under an `Idempotency-Key`: the same key gets the same answer."""

    __tablename__ = "idempotent_request"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    endpoint: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
