"""Questions asked of stock: the ledger, whether there is enough, what it is worth."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.catalog.service import ItemNotFound
from inventory.models import Item, Lot, Movement
from inventory.stock import ledger
from inventory.stock.errors import at_line
from inventory.stock.items import from_default_unit, items_by_id, to_default_unit
from inventory.stock.levels import stock_levels
from inventory.stock.schemas import (
    DiscrepancyRead,
    ItemValuation,
    LedgerCheck,
    MovementRead,
    StockCheckItem,
    StockCheckRequest,
    StockCheckResult,
    Valuation,
    ValuationLayer,
)
from inventory.stock.views import movement_read
from servicekit.db import utcnow
from servicekit.decimals import ZERO, on_scale
from servicekit.errors import DomainError
from servicekit.pagination import Page, PageParams


@dataclass(frozen=True, slots=True)
class MovementFilters:
    item_id: uuid.UUID | None = None
    lot_id: uuid.UUID | None = None
    kind: str | None = None
    batch_id: uuid.UUID | None = None
    occurred_from: datetime | None = None
    occurred_before: datetime | None = None


async def movements(session: AsyncSession, org_id: uuid.UUID, filters: MovementFilters,
                    params: PageParams) -> Page[MovementRead]:
    """The ledger, newest first."""
    query = (sa.select(Movement, Item.default_unit, Lot.lot_number)
             .join(Item, Item.id == Movement.item_id)
             .outerjoin(Lot, Lot.id == Movement.lot_id)
             .where(Movement.org_id == org_id))
    for column, value in ((Movement.item_id, filters.item_id), (Movement.lot_id, filters.lot_id),
                          (Movement.kind, filters.kind), (Movement.batch_id, filters.batch_id)):
        if value is not None:
            query = query.where(column == value)
    if filters.occurred_from is not None:
        query = query.where(Movement.occurred_at >= filters.occurred_from)
    if filters.occurred_before is not None:
        query = query.where(Movement.occurred_at < filters.occurred_before)
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(query.with_only_columns(Movement.id).subquery()))
    rows = await session.execute(query.order_by(Movement.id.desc())
                                 .limit(params.per_page).offset(params.offset))
    return Page.build([movement_read(m, unit, number) for m, unit, number in rows],
                      int(total or 0), params)


async def check_stock(session: AsyncSession, org_id: uuid.UUID,
                      request: StockCheckRequest) -> StockCheckResult:
    """Whether each item's available stock (usable lots, less reservations) covers what is
    needed, answered in the unit asked in. Several lines of one item add up."""
    now = utcnow()
    items = await items_by_id(session, org_id, (line.item_id for line in request.items))
    needed: dict[uuid.UUID, Decimal] = {}
    for index, line in enumerate(request.items):
        try:
            item = items.get(line.item_id)
            if item is None:
                raise ItemNotFound(details={"item_id": str(line.item_id)})
            quantity = to_default_unit(item, line.quantity_needed, line.unit)
        except DomainError as error:
            raise at_line(error, index, "items") from None
        needed[item.id] = needed.get(item.id, ZERO) + quantity
    levels = await stock_levels(session, org_id, items, now=now)
    answers = []
    for line in request.items:
        item, level = items[line.item_id], levels[line.item_id]
        unit = line.unit or item.default_unit
        enough = level.available >= needed[item.id]
        wanted = on_scale(line.quantity_needed)
        # Lines of one item are checked together; each shows the item's shortage, capped at
        # the line's own quantity.
        missing = ZERO if enough else min(
            wanted, from_default_unit(item, needed[item.id] - level.available, unit))
        answers.append(StockCheckItem(
            item_id=item.id, item_name=item.name,
            status="sufficient" if enough else "insufficient",
            available_quantity=from_default_unit(item, level.available, unit),
            needed_quantity=wanted, shortage=missing, unit=unit,
            expired_quantity=from_default_unit(item, level.expired_or_held, unit),
        ))
    overall = "sufficient" if all(a.status == "sufficient" for a in answers) else "insufficient"
    return StockCheckResult(overall_status=overall, items=answers)


async def valuation(session: AsyncSession, org_id: uuid.UUID, *,
                    item_id: uuid.UUID | None = None, item_type: str | None = None) -> Valuation:
    """On-hand value, layer by layer (each lot at its own unit cost), per item and in total."""
    now = utcnow()
    query = (sa.select(Lot, Item).join(Item, Item.id == Lot.item_id)
             .where(Lot.org_id == org_id, Lot.quantity_remaining > 0))
    if item_id is not None:
        query = query.where(Lot.item_id == item_id)
    if item_type is not None:
        query = query.where(Item.type == item_type)
    rows = (await session.execute(query.order_by(Item.name, Item.id, Lot.received_at,
                                                 Lot.id))).all()
    by_item: dict[uuid.UUID, ItemValuation] = {}
    for lot, item in rows:
        value = on_scale(lot.quantity_remaining * lot.unit_cost)
        entry = by_item.setdefault(item.id, ItemValuation(
            item_id=item.id, item_name=item.name, type=item.type, unit=item.default_unit,
            quantity=ZERO, value=ZERO, layers=[]))
        entry.layers.append(ValuationLayer(
            lot_id=lot.id, lot_number=lot.lot_number, received_at=lot.received_at,
            expires_at=lot.expires_at,
            expired=lot.expires_at is not None and lot.expires_at <= now,
            quantity=lot.quantity_remaining, unit_cost=lot.unit_cost, value=value))
        entry.quantity += lot.quantity_remaining
        entry.value += value
    items = list(by_item.values())
    return Valuation(as_of=now, total_value=sum((i.value for i in items), ZERO), items=items)


async def check_ledger(session: AsyncSession, org_id: uuid.UUID) -> LedgerCheck:
    found = await ledger.discrepancies(session, org_id)
    return LedgerCheck(consistent=not found, discrepancies=[
        DiscrepancyRead(kind=d.kind, id=d.id, recorded=d.recorded, ledger=d.ledger)
        for d in found])
