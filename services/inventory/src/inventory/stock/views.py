"""Building responses from rows: lots and movements with the names and units clients need."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.models import Item, Location, Lot, Movement
from inventory.stock.schemas import LocationRef, LotRead, MovementRead


def movement_read(movement: Movement, unit: str, lot_number: str | None) -> MovementRead:
    return MovementRead(
        id=movement.id, item_id=movement.item_id, lot_id=movement.lot_id, lot_number=lot_number,
        location_id=movement.location_id, kind=movement.kind, quantity=movement.quantity,
        unit=unit, unit_cost=movement.unit_cost, cost=movement.cost,
        batch_id=movement.batch_id, order_id=movement.order_id,
        purchase_bill_id=movement.purchase_bill_id, related_lot_id=movement.related_lot_id,
        actor=movement.actor, reason=movement.reason, occurred_at=movement.occurred_at,
    )


async def movement_reads(session: AsyncSession,
                         movements: Sequence[Movement]) -> list[MovementRead]:
    """Movements just written (flushed), with their items' units and lots' numbers."""
    lot_ids = {m.lot_id for m in movements if m.lot_id is not None}
    item_ids = {m.item_id for m in movements}
    lot_numbers = dict((await session.execute(
        sa.select(Lot.id, Lot.lot_number).where(Lot.id.in_(lot_ids)))).all()
    ) if lot_ids else {}
    units = dict((await session.execute(
        sa.select(Item.id, Item.default_unit).where(Item.id.in_(item_ids)))).all()
    ) if item_ids else {}
    return [movement_read(m, units[m.item_id], lot_numbers.get(m.lot_id) if m.lot_id else None)
            for m in movements]


def lot_read(lot: Lot, unit: str, location: Location, now: datetime) -> LotRead:
    return LotRead(
        id=lot.id, item_id=lot.item_id, lot_number=lot.lot_number,
        quantity_remaining=lot.quantity_remaining, quantity_received=lot.quantity_received,
        unit=unit, unit_cost=lot.unit_cost, received_at=lot.received_at,
        expires_at=lot.expires_at,
        expired=lot.expires_at is not None and lot.expires_at <= now,
        quarantined=lot.quarantined, source=lot.source,
        location=LocationRef(id=location.id, name=location.name),
        supplier_id=lot.supplier_id, purchase_bill_id=lot.purchase_bill_id,
        batch_id=lot.batch_id,
    )


async def lot_reads(session: AsyncSession, lots: Iterable[Lot], now: datetime) -> list[LotRead]:
    lots = list(lots)
    units = dict((await session.execute(
        sa.select(Item.id, Item.default_unit)
        .where(Item.id.in_({lot.item_id for lot in lots})))).all()) if lots else {}
    locations: dict[uuid.UUID, Location] = {
        location.id: location for location in await session.scalars(
            sa.select(Location).where(Location.id.in_({lot.location_id for lot in lots})))
    } if lots else {}
    return [lot_read(lot, units[lot.item_id], locations[lot.location_id], now) for lot in lots]
