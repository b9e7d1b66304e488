"""Stock levels per item (on hand, reserved, available) and the events their changes raise.

On hand is every lot's remaining quantity. Available is what can be used or sold now: stock in
lots that are neither expired nor quarantined, less the active reservations.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import LowStockDetected, StockLevelChanged
from inventory.models import Item, Lot, Reservation
from inventory.stock.domain import ZERO, tidy
from servicekit.db import UnitOfWork


@dataclass(frozen=True, slots=True)
class StockLevel:
    on_hand: Decimal = ZERO
    usable: Decimal = ZERO  # in lots neither expired nor quarantined
    reserved: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.usable - self.reserved

    @property
    def expired_or_held(self) -> Decimal:
        return self.on_hand - self.usable


def usable_lot(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Lot.quarantined.is_(False),
                   sa.or_(Lot.expires_at.is_(None), Lot.expires_at > now))


def active_reservation(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Reservation.status == "active",
                   sa.or_(Reservation.expires_at.is_(None), Reservation.expires_at > now))


async def stock_levels(session: AsyncSession, org_id: uuid.UUID, item_ids: Iterable[uuid.UUID],
                       *, now: datetime) -> dict[uuid.UUID, StockLevel]:
    """Each item's level (items without stock get zeros)."""
    ids = set(item_ids)
    if not ids:
        return {}
    lots = await session.execute(
        sa.select(Lot.item_id, sa.func.sum(Lot.quantity_remaining),
                  sa.func.sum(sa.case((usable_lot(now), Lot.quantity_remaining), else_=0)))
        .where(Lot.org_id == org_id, Lot.item_id.in_(ids), Lot.quantity_remaining > 0)
        .group_by(Lot.item_id)
    )
    reserved = dict((await session.execute(
        sa.select(Reservation.item_id, sa.func.sum(Reservation.quantity))
        .where(Reservation.org_id == org_id, Reservation.item_id.in_(ids),
               active_reservation(now))
        .group_by(Reservation.item_id)
    )).all())
    levels = {item_id: StockLevel(reserved=Decimal(reserved.get(item_id) or 0)) for item_id in ids}
    for item_id, on_hand, usable in lots:
        levels[item_id] = StockLevel(on_hand=Decimal(on_hand), usable=Decimal(usable),
                                     reserved=levels[item_id].reserved)
    return levels


async def announce_changes(uow: UnitOfWork, org_id: uuid.UUID, items: Iterable[Item],
                           before: Mapping[uuid.UUID, StockLevel], *, cause: str,
                           now: datetime) -> None:
    """Publish `StockLevelChanged` for each product whose available quantity moved, and
    `LowStockDetected` for each item that fell to or below its threshold just now."""
    by_id = {item.id: item for item in items}
    await uow.session.flush()
    after = await stock_levels(uow.session, org_id, by_id, now=now)
    for item_id, item in by_id.items():
        old, new = before.get(item_id, StockLevel()), after[item_id]
        if item.type == "product" and old.available != new.available:
            uow.publish(StockLevelChanged(
                item_id=item.id, sku=item.sku, on_hand=tidy(new.on_hand),
                reserved=tidy(new.reserved), available=tidy(new.available),
                unit=item.default_unit, cause=cause,
            ), org_id=org_id, subject=str(item.id))
        threshold = item.low_stock_threshold
        if threshold is not None and old.available > threshold >= new.available:
            uow.publish(LowStockDetected(
                item_id=item.id, name=item.name, available=tidy(new.available),
                threshold=tidy(threshold),
                unit=item.default_unit,
            ), org_id=org_id, subject=str(item.id))
