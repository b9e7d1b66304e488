from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import new_metadata
from servicekit.types import UTCDateTime


class Base(DeclarativeBase):
    metadata = new_metadata()


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
    sku: Mapped[str | None] = mapped_column(sa.String(100))
    # Unbounded NUMERIC: the copy keeps exactly the digits inventory sent.
    density_g_per_ml: Mapped[Decimal | None] = mapped_column(sa.Numeric())
    unit_cost: Mapped[Decimal | None] = mapped_column(sa.Numeric())
    allergens: Mapped[list[str]] = mapped_column(sa.JSON())
    archived: Mapped[bool] = mapped_column(sa.Boolean())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
