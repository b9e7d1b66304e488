"""Inventory counts (seed 001): a sheet of lots and what the books expect, what was counted,
and on completion a `recount` movement per lot that differs, with the variance report.

Expected quantities are the books when the count is opened (or when a lot joins it): the
sheet counters work from. Completion applies each lot's variance (counted less expected) as a
recount on top of whatever moved since, so sales and batches in between are not undone, and
the report's variance is exactly the ledger's movement. A count may be entered per lot, or
per item (seed 001's shape): an item's total is spread over its lots in the order consumption
takes them — a shortfall empties the earliest lots first and a surplus goes to the earliest,
the lots in use being where books and shelves drift apart. Completed and cancelled counts are
immutable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import sqlalchemy as sa
import structlog
from pydantic import AliasChoices, BaseModel, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.catalog.service import ItemNotFound
from inventory.models import CountLine, InventoryCount, Item, Lot
from inventory.stock import ledger
from inventory.stock.domain import consumption_sequence
from inventory.stock.errors import LotNotFound
from inventory.stock.items import items_by_id, to_default_unit
from inventory.stock.levels import announce_changes, stock_levels
from inventory.stock.locations import get_location
from inventory.stock.schemas import CountedQuantity, Request, UnitSymbol
from servicekit.db import UnitOfWork, utcnow
from servicekit.decimals import ZERO, on_scale
from servicekit.errors import Conflict, NotFound, ValidationFailed
from servicekit.pagination import Page, PageParams
from servicekit.types import JsonDecimal

logger = structlog.get_logger("inventory.counts")
CountStatus = Literal["open", "completed", "cancelled"]


class CountNotFound(NotFound):
    default_message = "Inventory count not found"


class CountClosed(Conflict):
    code = "COUNT_CLOSED"
    default_message = "The count is completed or cancelled and can no longer change"


# --- schemas ---------------------------------------------------------------------------------

class ItemCount(Request):
    """An item counted as a whole, in any unit that converts to its own."""

    item_id: uuid.UUID = Field(validation_alias=AliasChoices("item_id", "ingredient_id"))
    counted_quantity: CountedQuantity = Field(
        validation_alias=AliasChoices("counted_quantity", "quantity"))
    unit: UnitSymbol | None = None


class LotCount(Request):
    lot_id: uuid.UUID
    counted_quantity: CountedQuantity
    unit: UnitSymbol | None = None


class CountCreate(Request):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    count_date: date | None = Field(default=None, description="Names the count if no name")
    location_id: uuid.UUID | None = Field(default=None, description="Only lots there")
    item_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=1000, description="Only these items' lots (default: all)")
    items: list[ItemCount] | None = Field(
        default=None, max_length=1000, description="Seed 001: items counted right away")
    notes: str | None = Field(default=None, max_length=2000)


class CountLinesUpdate(Request):
    lines: list[LotCount] = Field(default_factory=list, max_length=2000)
    items: list[ItemCount] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _something(self) -> CountLinesUpdate:
        if not self.lines and not self.items:
            raise ValueError("send counted lines (by lot) or items")
        return self


class CountLotRead(BaseModel):
    lot_id: uuid.UUID
    lot_number: str
    location_id: uuid.UUID
    expected_quantity: JsonDecimal
    counted_quantity: JsonDecimal | None
    variance: JsonDecimal | None
    unit_cost: JsonDecimal
    variance_value: JsonDecimal | None


class CountItemRead(BaseModel):
    item_id: uuid.UUID
    item_name: str
    unit: str
    expected_quantity: JsonDecimal
    counted_quantity: JsonDecimal | None = Field(description="Once every lot is counted")
    variance: JsonDecimal = Field(description="Over the lots counted")
    variance_value: JsonDecimal
    lots: list[CountLotRead]


class CountTotals(BaseModel):
    lots: int
    lots_counted: int
    lots_with_variance: int
    expected_value: JsonDecimal
    counted_value: JsonDecimal = Field(description="Of the lots counted")
    variance_value: JsonDecimal
    shrinkage_value: JsonDecimal = Field(description="Value of what is missing (negative)")
    surplus_value: JsonDecimal


class CountSummary(BaseModel):
    id: uuid.UUID
    name: str
    location_id: uuid.UUID | None
    status: CountStatus
    notes: str | None
    created_at: datetime
    completed_at: datetime | None
    lots: int
    lots_counted: int


class CountRead(CountSummary):
    """The count and its variance report (per item and lot; values at each lot's unit cost)."""

    items: list[CountItemRead]
    totals: CountTotals


# --- use cases -------------------------------------------------------------------------------

async def create_count(uow: UnitOfWork, org_id: uuid.UUID, request: CountCreate) -> CountRead:
    now = utcnow()
    if request.location_id is not None:
        await get_location(uow.session, org_id, request.location_id)
    entries = request.items or []
    wanted = set(request.item_ids or ()) | {entry.item_id for entry in entries}
    items = await items_by_id(uow.session, org_id, wanted)
    if missing := wanted - set(items):
        raise ItemNotFound(details={"item_ids": sorted(str(i) for i in missing)})
    count = InventoryCount(
        id=uuid.uuid4(), org_id=org_id, status="open", location_id=request.location_id,
        name=request.name or f"Count {(request.count_date or now.date()).isoformat()}",
        notes=request.notes, created_at=now, updated_at=now)
    uow.session.add(count)
    query = sa.select(Lot).where(Lot.org_id == org_id, Lot.quantity_remaining > 0)
    if request.location_id is not None:
        query = query.where(Lot.location_id == request.location_id)
    if request.item_ids is not None or entries:
        query = query.where(Lot.item_id.in_(wanted))
    for lot in await uow.session.scalars(query.order_by(Lot.item_id, Lot.id)):
        uow.session.add(_line(count, lot))
    await uow.session.flush()
    if entries:
        await _count_items(uow, org_id, count, entries, items)
    read = await _read(uow.session, count)
    await uow.commit()
    return read


async def record_counts(uow: UnitOfWork, org_id: uuid.UUID, count_id: uuid.UUID,
                        request: CountLinesUpdate) -> CountRead:
    """Enter counted quantities (again, if need be). A lot not on the sheet joins it, with
    the books' quantity as expected, if it is the organization's and at the count's location."""
    count = await _lock_open(uow, org_id, count_id)
    lines = await _lines(uow.session, count.id)
    lots = {lot.id: lot for lot in await uow.session.scalars(sa.select(Lot).where(
        Lot.org_id == org_id, Lot.id.in_({entry.lot_id for entry in request.lines})))}
    items = await items_by_id(uow.session, org_id, {lot.item_id for lot in lots.values()}
                              | {entry.item_id for entry in request.items})
    for index, entry in enumerate(request.lines):
        lot = lots.get(entry.lot_id)
        if lot is None:
            raise LotNotFound(details={"lot_id": str(entry.lot_id), "line": f"lines.{index}"})
        if count.location_id is not None and lot.location_id != count.location_id:
            raise ValidationFailed(
                "The lot is not at the count's location",
                details={"lot_id": str(lot.id), "line": f"lines.{index}"})
        line = lines.get(lot.id)
        if line is None:
            line = lines[lot.id] = _line(count, lot)
            uow.session.add(line)
        line.counted_quantity = to_default_unit(items[lot.item_id], entry.counted_quantity,
                                                entry.unit, allow_zero=True)
    if missing := {e.item_id for e in request.items} - set(items):
        raise ItemNotFound(details={"item_ids": sorted(str(i) for i in missing)})
    await uow.session.flush()
    if request.items:
        await _count_items(uow, org_id, count, request.items, items)
    count.updated_at = utcnow()
    read = await _read(uow.session, count)
    await uow.commit()
    return read


async def complete_count(uow: UnitOfWork, org_id: uuid.UUID, actor: str,
                         count_id: uuid.UUID) -> CountRead:
    """Apply every counted lot's variance as a `recount` and close the count."""
    now = utcnow()
    count = await _lock_open(uow, org_id, count_id)
    counted = [line for line in (await _lines(uow.session, count.id)).values()
               if line.counted_quantity is not None
               and line.counted_quantity != line.expected_quantity]
    locked = await ledger.lock_lots(uow, org_id, lot_ids={line.lot_id for line in counted})
    lots = {lot.id: lot for group in locked.values() for lot in group}
    items = await items_by_id(uow.session, org_id, {line.item_id for line in counted})
    before = await stock_levels(uow.session, org_id, items, now=now)
    provenance = ledger.Provenance(actor=actor, reason=f"count {count.name}",
                                   count_id=count.id)
    # In the report's order: by item name, then lot by lot as received.
    counted.sort(key=lambda line: (items[line.item_id].name, lots[line.lot_id].received_at,
                                   line.lot_id))
    for line in counted:
        assert line.counted_quantity is not None
        lot = lots[line.lot_id]
        target = lot.quantity_remaining + line.counted_quantity - line.expected_quantity
        if target < 0:  # the lot was used since, beyond what the count still found
            logger.warning("count variance exceeds what the lot holds now; lot set to zero",
                           count_id=str(count.id), lot_id=str(lot.id))
            target = ZERO
        ledger.recount(uow, org_id, lot, target, provenance=provenance)
    count.status = "completed"
    count.completed_at = count.updated_at = now
    await announce_changes(uow, org_id, items.values(), before, cause="count", now=now)
    read = await _read(uow.session, count)
    await uow.commit()
    return read


async def cancel_count(uow: UnitOfWork, org_id: uuid.UUID, count_id: uuid.UUID) -> CountRead:
    count = await _lock_open(uow, org_id, count_id)
    count.status = "cancelled"
    count.updated_at = utcnow()
    read = await _read(uow.session, count)
    await uow.commit()
    return read


async def get_count(session: AsyncSession, org_id: uuid.UUID, count_id: uuid.UUID) -> CountRead:
    count = await session.scalar(sa.select(InventoryCount).where(
        InventoryCount.org_id == org_id, InventoryCount.id == count_id))
    if count is None:
        raise CountNotFound(details={"count_id": str(count_id)})
    return await _read(session, count)


async def list_counts(session: AsyncSession, org_id: uuid.UUID, params: PageParams, *,
                      status: CountStatus | None = None) -> Page[CountSummary]:
    lines = (sa.select(CountLine.count_id, sa.func.count().label("lots"),
                       sa.func.count(CountLine.counted_quantity).label("counted"))
             .where(CountLine.org_id == org_id).group_by(CountLine.count_id).subquery())
    query = (sa.select(InventoryCount, lines.c.lots, lines.c.counted)
             .outerjoin(lines, lines.c.count_id == InventoryCount.id)
             .where(InventoryCount.org_id == org_id))
    if status is not None:
        query = query.where(InventoryCount.status == status)
    total = await session.scalar(sa.select(sa.func.count()).select_from(
        query.with_only_columns(InventoryCount.id).subquery()))
    rows = await session.execute(query.order_by(InventoryCount.created_at.desc(),
                                                InventoryCount.id)
                                 .limit(params.per_page).offset(params.offset))
    return Page.build([_summary(count, lots or 0, counted_ or 0)
                       for count, lots, counted_ in rows], int(total or 0), params)


# --- rules -----------------------------------------------------------------------------------

def spread(expected: Sequence[tuple[uuid.UUID, Decimal]],
           counted: Decimal) -> dict[uuid.UUID, Decimal]:
    """An item's counted total over its lots (given in consumption order, with what each is
    expected to hold): a shortfall comes out of the earliest lots first, a surplus goes to
    the earliest lot."""
    if not expected:
        return {}
    result = {lot_id: quantity for lot_id, quantity in expected}
    short = sum(result.values(), ZERO) - counted
    if short < 0:
        result[expected[0][0]] -= short
    for lot_id, quantity in expected:
        if short <= 0:
            break
        taken = min(quantity, short)
        result[lot_id] = quantity - taken
        short -= taken
    return result


# --- helpers ---------------------------------------------------------------------------------

def _line(count: InventoryCount, lot: Lot) -> CountLine:
    return CountLine(id=uuid.uuid4(), org_id=count.org_id, count_id=count.id,
                     item_id=lot.item_id, lot_id=lot.id,
                     expected_quantity=lot.quantity_remaining, counted_quantity=None)


async def _lock_open(uow: UnitOfWork, org_id: uuid.UUID, count_id: uuid.UUID) -> InventoryCount:
    query = sa.select(InventoryCount).where(InventoryCount.org_id == org_id,
                                            InventoryCount.id == count_id)
    if not uow.db.is_sqlite:
        query = query.with_for_update()
    count = await uow.session.scalar(query.execution_options(populate_existing=True))
    if count is None:
        raise CountNotFound(details={"count_id": str(count_id)})
    if count.status != "open":
        raise CountClosed(f"The count is {count.status} and can no longer change",
                          details={"count_id": str(count.id), "status": count.status})
    return count


async def _lines(session: AsyncSession, count_id: uuid.UUID) -> dict[uuid.UUID, CountLine]:
    rows = await session.scalars(sa.select(CountLine).where(CountLine.count_id == count_id))
    return {line.lot_id: line for line in rows}


async def _count_items(uow: UnitOfWork, org_id: uuid.UUID, count: InventoryCount,
                       entries: Iterable[ItemCount], items: dict[uuid.UUID, Item]) -> None:
    """Spread each item's counted total over its lots on the sheet."""
    lines = await _lines(uow.session, count.id)
    lots = {lot.id: lot for lot in await uow.session.scalars(
        sa.select(Lot).where(Lot.id.in_(set(lines))))} if lines else {}
    for index, entry in enumerate(entries):
        item = items[entry.item_id]
        own = [lots[lot_id] for lot_id in lines if lots[lot_id].item_id == item.id]
        if not own:
            raise ValidationFailed(
                f"The count holds no lot of {item.name} to count against; record stock "
                "found without a lot as a restock",
                details={"item_id": str(item.id), "line": f"items.{index}"})
        total = to_default_unit(item, entry.counted_quantity, entry.unit, allow_zero=True)
        order = "fefo" if item.consumption_order == "fefo" else "fifo"
        sequence = consumption_sequence([ledger.as_stock(lot) for lot in own], order)
        for lot_id, quantity in spread(
                [(s.id, lines[s.id].expected_quantity) for s in sequence], total).items():
            lines[lot_id].counted_quantity = on_scale(quantity)
    await uow.session.flush()


def _summary(count: InventoryCount, lots: int, counted: int) -> CountSummary:
    return CountSummary(id=count.id, name=count.name, location_id=count.location_id,
                        status=count.status,  # type: ignore[arg-type]
                        notes=count.notes, created_at=count.created_at,
                        completed_at=count.completed_at, lots=lots, lots_counted=counted)


async def _read(session: AsyncSession, count: InventoryCount) -> CountRead:
    await session.flush()
    rows = (await session.execute(
        sa.select(CountLine, Lot, Item).join(Lot, Lot.id == CountLine.lot_id)
        .join(Item, Item.id == CountLine.item_id)
        .where(CountLine.count_id == count.id)
        .order_by(Item.name, Item.id, Lot.received_at, Lot.id))).all()
    by_item: dict[uuid.UUID, CountItemRead] = {}
    totals = CountTotals(lots=len(rows), lots_counted=0, lots_with_variance=0,
                         expected_value=ZERO, counted_value=ZERO, variance_value=ZERO,
                         shrinkage_value=ZERO, surplus_value=ZERO)
    uncounted: set[uuid.UUID] = set()
    for line, lot, item in rows:
        counted = line.counted_quantity
        variance = None if counted is None else counted - line.expected_quantity
        value = None if variance is None else on_scale(variance * lot.unit_cost)
        entry = by_item.setdefault(item.id, CountItemRead(
            item_id=item.id, item_name=item.name, unit=item.default_unit,
            expected_quantity=ZERO, counted_quantity=ZERO, variance=ZERO,
            variance_value=ZERO, lots=[]))
        entry.lots.append(CountLotRead(
            lot_id=lot.id, lot_number=lot.lot_number, location_id=lot.location_id,
            expected_quantity=line.expected_quantity, counted_quantity=counted,
            variance=variance, unit_cost=lot.unit_cost, variance_value=value))
        entry.expected_quantity += line.expected_quantity
        totals.expected_value += on_scale(line.expected_quantity * lot.unit_cost)
        if counted is None or variance is None or value is None:
            uncounted.add(item.id)
            continue
        entry.counted_quantity = (entry.counted_quantity or ZERO) + counted
        entry.variance += variance
        entry.variance_value += value
        totals.lots_counted += 1
        totals.counted_value += on_scale(counted * lot.unit_cost)
        totals.variance_value += value
        if variance != 0:
            totals.lots_with_variance += 1
        if value < 0:
            totals.shrinkage_value += value
        else:
            totals.surplus_value += value
    for item_id in uncounted:
        by_item[item_id].counted_quantity = None
    summary = _summary(count, totals.lots, totals.lots_counted)
    return CountRead(**summary.model_dump(), items=list(by_item.values()), totals=totals)
