"""Lots: an item's FIFO layers, one lot, and moving stock between locations."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.models import Lot
from inventory.stock import idempotency, ledger
from inventory.stock.domain import Shortfall, consumption_sequence
from inventory.stock.errors import LotNotFound, SameLocation
from inventory.stock.idempotency import Answer
from inventory.stock.items import get_item, to_default_unit
from inventory.stock.levels import stock_levels
from inventory.stock.locations import get_location
from inventory.stock.schemas import ItemLots, LotMoveRequest, LotMoveResult, LotRead, dump
from inventory.stock.views import lot_reads, movement_reads
from servicekit.db import UnitOfWork, utcnow

MOVE_ENDPOINT = "POST /api/v1/inventory/lots/move"


async def item_lots(session: AsyncSession, org_id: uuid.UUID, item_id: uuid.UUID, *,
                    include_empty: bool = False) -> ItemLots:
    """The item's lots in the order consumption takes them (FIFO, or FEFO where the item
    asks for it), with its totals."""
    now = utcnow()
    item = await get_item(session, org_id, item_id)
    query = sa.select(Lot).where(Lot.org_id == org_id, Lot.item_id == item.id)
    if not include_empty:
        query = query.where(Lot.quantity_remaining > 0)
    lots = list(await session.scalars(query))
    stocks = {lot.id: lot for lot in lots}
    ordered = [stocks[s.id] for s in consumption_sequence(
        [ledger.as_stock(lot) for lot in lots],
        "fefo" if item.consumption_order == "fefo" else "fifo")]
    level = (await stock_levels(session, org_id, [item.id], now=now))[item.id]
    return ItemLots(
        item_id=item.id, item_name=item.name, unit=item.default_unit,
        consumption_order=item.consumption_order, total_on_hand=level.on_hand,
        total_available=level.available, reserved=level.reserved,
        lots=await lot_reads(session, ordered, now),
    )


async def get_lot(session: AsyncSession, org_id: uuid.UUID, lot_id: uuid.UUID) -> LotRead:
    lot = await session.scalar(sa.select(Lot).where(Lot.org_id == org_id, Lot.id == lot_id))
    if lot is None:
        raise LotNotFound(details={"lot_id": str(lot_id)})
    return (await lot_reads(session, [lot], utcnow()))[0]


async def move(uow: UnitOfWork, org_id: uuid.UUID, actor: str, request: LotMoveRequest, *,
               idempotency_key: str | None = None) -> Answer:
    """Move part or all of a lot to another location (seed 004's move of quantity)."""
    claimed = await idempotency.claim(uow, org_id, idempotency_key, MOVE_ENDPOINT, request)
    if isinstance(claimed, Answer):
        return claimed
    lot = await ledger.lock_lot(uow, org_id, request.lot_id)
    item = await get_item(uow.session, org_id, lot.item_id)
    quantity = to_default_unit(item, request.quantity, request.unit)
    target = await get_location(uow.session, org_id, request.to_location_id)
    if target.id == lot.location_id:
        raise SameLocation(details={"lot_id": str(lot.id), "location_id": str(target.id)})
    if lot.quantity_remaining < quantity:
        raise ledger.insufficient(item, Shortfall(needed=quantity,
                                                  available=lot.quantity_remaining,
                                                  expired_only=False), lot=lot)
    moved, out, into = ledger.split(uow, org_id, lot, quantity, target.id,
                                    provenance=ledger.Provenance(actor=actor,
                                                                 reason=request.reason))
    await uow.session.flush()
    from_lot, to_lot = await lot_reads(uow.session, [lot, moved], utcnow())
    result = LotMoveResult(from_lot=from_lot, to_lot=to_lot, quantity=quantity,
                           unit=item.default_unit,
                           movements=await movement_reads(uow.session, [out, into]))
    answer = Answer(200, dump(result))
    await idempotency.remember(uow, claimed, answer)
    await uow.commit()
    return answer
