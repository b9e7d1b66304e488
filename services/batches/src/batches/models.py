"""Batches' tables. Every row carries `org_id`; quantities and money are exact NUMERICs.

A batch keeps the plan it followed (`plan_snapshot`), the lines it asked inventory for
(`batch_line`), what inventory actually took, lot by lot (`batch_consumption`), what it made
(`batch_output`) and the container adjustments recorded on it.
"""

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
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

BATCH_STATUSES = ("pending", "in_progress", "failed", "finished", "cancelling", "cancelled")


class Base(DeclarativeBase):
    metadata = new_metadata()


class Batch(Base):
    """One production run.

    pending -> in_progress (stock taken) | failed (shortages, nothing taken);
    in_progress -> finished | cancelling -> cancelled (stock returned to its lots).
    A cancel asked for while pending is kept in `cancel_requested_at` (status cancelling)
    until inventory's answer arrives; `deducted_at` tells whether stock was ever taken.
    """

    __tablename__ = "batch"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "code"),
        sa.Index("ix_batch_org_id_created_at", "org_id", "created_at"),
        sa.Index("ix_batch_org_id_status", "org_id", "status"),
        sa.Index("ix_batch_org_id_recipe_id", "org_id", "recipe_id"),
        sa.Index("ix_batch_org_id_parent_batch_id", "org_id", "parent_batch_id"),
        sa.CheckConstraint(
            "status IN ('pending', 'in_progress', 'failed', 'finished', 'cancelling', "
            "'cancelled')", name="status_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column()
    code: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    recipe_id: Mapped[uuid.UUID] = mapped_column()
    recipe_version: Mapped[int] = mapped_column()
    recipe_name: Mapped[str | None] = mapped_column(sa.String(200))
    batch_type: Mapped[str] = mapped_column(sa.String(20))  # product|ingredient
    output_item_id: Mapped[uuid.UUID | None] = mapped_column()
    plan_snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    scale: Mapped[Decimal] = mapped_column(Quantity)
    projected_yield: Mapped[Decimal] = mapped_column(Quantity)
    projected_yield_unit: Mapped[str] = mapped_column(sa.String(32))
    is_portioned: Mapped[bool] = mapped_column(default=False)
    portion_name: Mapped[str | None] = mapped_column(sa.String(50))
    portion_count: Mapped[Decimal | None] = mapped_column(Quantity)
    notes: Mapped[str | None] = mapped_column(sa.Text())
    estimated_cost: Mapped[Decimal | None] = mapped_column(Money)
    cost_complete: Mapped[bool] = mapped_column(default=True)
    actual_cost: Mapped[Decimal | None] = mapped_column(Money)
    shortages: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)
    yield_quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    yield_unit: Mapped[str | None] = mapped_column(sa.String(32))
    waste_quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    waste_unit: Mapped[str | None] = mapped_column(sa.String(32))
    waste_notes: Mapped[str | None] = mapped_column(sa.Text())
    batch_notes: Mapped[str | None] = mapped_column(sa.Text())  # written at finish
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text())
    parent_batch_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("batch.id"))
    # A variant of a split: what it becomes as soon as its base is taken (item, quantity,
    # unit, notes); None for every other batch.
    variant_output: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                 onupdate=utcnow)
    deducted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # stock taken
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # in_progress
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BatchLine(Base):
    """What the batch asked inventory for (a `BatchStarted` line), with the plan's names."""

    __tablename__ = "batch_line"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[uuid.UUID] = mapped_column()
    batch_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("batch.id"), index=True)
    position: Mapped[int] = mapped_column()
    item_id: Mapped[uuid.UUID] = mapped_column()
    item_name: Mapped[str | None] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))  # ingredient|consumable|container
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(sa.String(32))
    estimated_cost: Mapped[Decimal | None] = mapped_column(Money)


class BatchConsumption(Base):
    """One lot inventory took from for the batch (a `StockDeducted` line)."""

    __tablename__ = "batch_consumption"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[uuid.UUID] = mapped_column()
    batch_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("batch.id"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column()
    role: Mapped[str] = mapped_column(sa.String(20))
    lot_id: Mapped[uuid.UUID] = mapped_column()
    lot_number: Mapped[str] = mapped_column(sa.String(100))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(sa.String(32))
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    cost: Mapped[Decimal] = mapped_column(Money)


class BatchOutput(Base):
    """What a finished batch made: one product (or intermediate) lot in inventory."""

    __tablename__ = "batch_output"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[uuid.UUID] = mapped_column()
    batch_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("batch.id"), index=True)
    position: Mapped[int] = mapped_column()
    item_id: Mapped[uuid.UUID] = mapped_column()
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(sa.String(32))
    cost: Mapped[Decimal] = mapped_column(Money)  # this output's share of the batch cost
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    cost_share: Mapped[Decimal | None] = mapped_column(Quantity)
    lot_number: Mapped[str] = mapped_column(sa.String(100))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str | None] = mapped_column(sa.Text())


class ContainerAdjustment(Base):
    """A note on the batch record that containers were broken, extra used or left unused.
    Stock moves for containers only at start; these do not move stock."""

    __tablename__ = "container_adjustment"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column()
    batch_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("batch.id"), index=True)
    container_id: Mapped[uuid.UUID] = mapped_column()
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    reason: Mapped[str] = mapped_column(sa.String(20))  # broken|extra_used|unused
    notes: Mapped[str | None] = mapped_column(sa.Text())
    created_by: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdempotentRequest(Base):
    """A write made under an `Idempotency-Key`: the batches it made, so a repeat answers with
    them (in their current state) instead of making more."""

    __tablename__ = "idempotent_request"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    endpoint: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    batch_ids: Mapped[list[str]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BatchCodeSequence(Base):
    """The last sequence number given out per organization, code prefix and (UTC) day."""

    __tablename__ = "batch_code_sequence"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date(), primary_key=True)
    last_number: Mapped[int] = mapped_column()
