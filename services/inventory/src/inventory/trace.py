"""Traceability from the ledger alone: where a lot went, where it came from, and a recall.

Forward from a lot: the batches that consumed it (`batch_consumption` movements), the lots
those batches made (`Lot.batch_id`), the lots split off any of them by moves, and so on through
intermediate batches (a lye solution made by one batch and used by the next); then the orders
and reservations sold from any of those lots. Backward: the batch that made the lot, the lots
that batch consumed, and theirs in turn, down to suppliers and purchase bills.

A recall takes the forward set: the orders already sold from it, the open reservations of its
items, and the stock still on hand, by location, to quarantine. Quarantined lots are skipped by
every consumption (the stock domain's picking passes over them).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.models import Item, Lot, Movement, PurchaseBill, Reservation, Supplier
from inventory.reservations import ReservationRead, open_reservations
from inventory.stock import ledger
from inventory.stock.errors import LotNotFound
from inventory.stock.levels import announce_changes, stock_levels
from inventory.stock.schemas import LotRead
from inventory.stock.views import lot_reads
from servicekit.db import UnitOfWork, utcnow
from servicekit.decimals import ZERO, on_scale
from servicekit.types import JsonDecimal

# --- schemas ---------------------------------------------------------------------------------


class TraceLot(LotRead):
    item_name: str
    item_type: str
    sku: str | None
    depth: int  # batches between this lot and the traced one


class LotQuantity(BaseModel):
    lot_id: uuid.UUID
    lot_number: str
    item_id: uuid.UUID
    item_name: str
    quantity: JsonDecimal
    unit: str


class TraceBatch(BaseModel):
    batch_id: uuid.UUID
    started_at: datetime | None
    consumed: list[LotQuantity]  # every lot the batch took from, net of returns
    made: list[LotQuantity]  # every lot it made, as received


class SaleLine(LotQuantity):
    returned: JsonDecimal  # `quantity` is what is still sold, after returns


class TraceSale(BaseModel):
    order_id: uuid.UUID | None = None
    reservation_id: uuid.UUID | None = None
    customer_name: str | None = None
    reference: str | None  # the ledger's reason: channel and external order number
    sold_at: datetime
    lines: list[SaleLine]


class Forward(BaseModel):
    batches: list[TraceBatch]
    lots: list[TraceLot]
    orders: list[TraceSale]
    reservations: list[TraceSale]  # reservations fulfilled from these lots


class SupplierRef(BaseModel):
    id: uuid.UUID
    name: str
    email: str | None
    phone: str | None


class BillRef(BaseModel):
    id: uuid.UUID
    bill_number: str | None
    billed_at: datetime
    supplier_id: uuid.UUID | None
    lot_ids: list[uuid.UUID]


class Backward(BaseModel):
    batches: list[TraceBatch]
    lots: list[TraceLot]
    suppliers: list[SupplierRef]
    purchase_bills: list[BillRef]


class LotTrace(BaseModel):
    lot: TraceLot
    forward: Forward
    backward: Backward


class StockToQuarantine(BaseModel):
    location_id: uuid.UUID
    location_name: str
    value: JsonDecimal
    lots: list[TraceLot]


class Recall(BaseModel):
    lot: TraceLot
    orders: list[TraceSale]  # still sold (not returned)
    fulfilled_reservations: list[TraceSale]
    reservations_to_stop: list[ReservationRead]
    stock: list[StockToQuarantine]
    lots_to_quarantine: int  # with stock and not quarantined yet
    quarantined_now: list[uuid.UUID] = []


# --- use cases -------------------------------------------------------------------------------

async def trace_lot(session: AsyncSession, org_id: uuid.UUID, lot_id: uuid.UUID) -> LotTrace:
    root = await _root(session, org_id, lot_id)
    forward_depths, forward_batches = await _forward(session, org_id, root)
    backward_depths, backward_batches = await _backward(session, org_id, root)
    forward_depths.pop(root.id)
    backward_depths.pop(root.id)
    backward_lots = await _lots(session, org_id, backward_depths)
    origins = [root, *backward_lots.values()]
    sales = await _sales(session, org_id, [root.id, *forward_depths], include_returned=True)
    return LotTrace(
        lot=(await _reads(session, org_id, {root.id: root}, {root.id: 0}))[0],
        forward=Forward(
            batches=await _batches(session, org_id, forward_batches),
            lots=await _reads(session, org_id, await _lots(session, org_id, forward_depths),
                              forward_depths),
            orders=[s for s in sales if s.order_id is not None],
            reservations=[s for s in sales if s.reservation_id is not None]),
        backward=Backward(
            batches=await _batches(session, org_id, backward_batches),
            lots=await _reads(session, org_id, backward_lots, backward_depths),
            suppliers=await _suppliers(session, org_id, origins),
            purchase_bills=await _bills(session, org_id, origins)),
    )


async def recall(session: AsyncSession, org_id: uuid.UUID, lot_id: uuid.UUID) -> Recall:
    root = await _root(session, org_id, lot_id)
    depths, _ = await _forward(session, org_id, root)
    lots = await _lots(session, org_id, depths)
    sales = await _sales(session, org_id, list(lots), include_returned=False)
    on_hand = {i: lot for i, lot in lots.items() if lot.quantity_remaining > 0}
    reads = await _reads(session, org_id, on_hand, depths)
    by_location: dict[uuid.UUID, StockToQuarantine] = {}
    for read in reads:
        place = by_location.setdefault(read.location.id, StockToQuarantine(
            location_id=read.location.id, location_name=read.location.name,
            value=ZERO, lots=[]))
        place.lots.append(read)
        place.value += on_scale(read.quantity_remaining * read.unit_cost)
    return Recall(
        lot=(await _reads(session, org_id, {root.id: root}, depths))[0],
        orders=[s for s in sales if s.order_id is not None],
        fulfilled_reservations=[s for s in sales if s.reservation_id is not None],
        reservations_to_stop=await open_reservations(
            session, org_id, {lot.item_id for lot in lots.values()}),
        stock=sorted(by_location.values(), key=lambda p: p.location_name),
        lots_to_quarantine=sum(1 for lot in on_hand.values() if not lot.quarantined),
    )


async def quarantine(uow: UnitOfWork, org_id: uuid.UUID, lot_id: uuid.UUID) -> Recall:
    """Quarantine every affected lot with stock: no batch, sale or reservation takes from it
    until someone lifts the quarantine."""
    now = utcnow()
    root = await _root(uow.session, org_id, lot_id)
    depths, _ = await _forward(uow.session, org_id, root)
    locked = await ledger.lock_lots(uow, org_id, lot_ids=depths)
    held = [lot for group in locked.values() for lot in group
            if lot.quantity_remaining > 0 and not lot.quarantined]
    items = list(await uow.session.scalars(sa.select(Item).where(
        Item.org_id == org_id, Item.id.in_({lot.item_id for lot in held}))))
    before = await stock_levels(uow.session, org_id, {i.id for i in items}, now=now)
    for lot in held:
        lot.quarantined = True
    await announce_changes(uow, org_id, items, before, cause="recall_quarantine", now=now)
    result = await recall(uow.session, org_id, lot_id)
    result.quarantined_now = sorted(lot.id for lot in held)
    await uow.commit()
    return result


# --- walking the ledger ----------------------------------------------------------------------

async def _root(session: AsyncSession, org_id: uuid.UUID, lot_id: uuid.UUID) -> Lot:
    lot = await session.scalar(sa.select(Lot).where(Lot.org_id == org_id, Lot.id == lot_id))
    if lot is None:
        raise LotNotFound(details={"lot_id": str(lot_id)})
    return lot


def _consumed_by_batch() -> sa.Select[tuple[uuid.UUID, uuid.UUID, Decimal]]:
    """(batch, lot, net quantity taken) for lots a batch took from and did not give back."""
    net = sa.func.sum(Movement.quantity)
    return (sa.select(Movement.batch_id, Movement.lot_id, -net)
            .where(Movement.kind == "batch_consumption", Movement.batch_id.is_not(None),
                   Movement.lot_id.is_not(None))
            .group_by(Movement.batch_id, Movement.lot_id).having(net < 0))


async def _forward(session: AsyncSession, org_id: uuid.UUID,
                   root: Lot) -> tuple[dict[uuid.UUID, int], list[uuid.UUID]]:
    """Every lot downstream of `root` (itself included) with its depth, and the batches."""
    depths = {root.id: 0}
    batches: list[uuid.UUID] = []
    frontier = {root.id}
    while frontier:
        consumed = await session.execute(_consumed_by_batch().where(
            Movement.org_id == org_id, Movement.lot_id.in_(frontier)))
        made_by = {batch_id: depths[lot_id] + 1 for batch_id, lot_id, _ in consumed}
        new_batches = [b for b in made_by if b not in batches]
        batches += new_batches
        split_off = await session.execute(
            sa.select(Movement.lot_id, Movement.related_lot_id)
            .where(Movement.org_id == org_id, Movement.kind == "move_out",
                   Movement.lot_id.in_(frontier), Movement.related_lot_id.is_not(None)))
        found = {child: depths[parent] for parent, child in split_off}
        if new_batches:
            outputs = await session.execute(sa.select(Lot.id, Lot.batch_id).where(
                Lot.org_id == org_id, Lot.batch_id.in_(new_batches)))
            found |= {lot_id: made_by[batch_id] for lot_id, batch_id in outputs}
        frontier = {lot_id for lot_id in found if lot_id not in depths}
        depths |= {lot_id: found[lot_id] for lot_id in frontier}
    return depths, batches


async def _backward(session: AsyncSession, org_id: uuid.UUID,
                    root: Lot) -> tuple[dict[uuid.UUID, int], list[uuid.UUID]]:
    """Every lot upstream of `root` (itself included) with its depth, and the batches."""
    depths = {root.id: 0}
    batches: list[uuid.UUID] = []
    frontier: dict[uuid.UUID, uuid.UUID | None] = {root.id: root.batch_id}
    while frontier:
        wanted = {b: depths[lot] + 1 for lot, b in frontier.items()
                  if b is not None and b not in batches}
        batches += list(wanted)
        found: dict[uuid.UUID, int] = {}
        if wanted:
            inputs = await session.execute(_consumed_by_batch().where(
                Movement.org_id == org_id, Movement.batch_id.in_(wanted)))
            found |= {lot_id: wanted[batch_id] for batch_id, lot_id, _ in inputs}
        split_from = await session.execute(
            sa.select(Movement.lot_id, Movement.related_lot_id)
            .where(Movement.org_id == org_id, Movement.kind == "move_in",
                   Movement.lot_id.in_(set(frontier)), Movement.related_lot_id.is_not(None)))
        found |= {parent: depths[child] for child, parent in split_from}
        new = {lot_id for lot_id in found if lot_id not in depths}
        depths |= {lot_id: found[lot_id] for lot_id in new}
        frontier = {}
        if new:
            rows = await session.execute(sa.select(Lot.id, Lot.batch_id).where(
                Lot.org_id == org_id, Lot.id.in_(new)))
            frontier = dict(rows.all())
    return depths, batches


async def _lots(session: AsyncSession, org_id: uuid.UUID,
                ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Lot]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.scalars(sa.select(Lot).where(Lot.org_id == org_id, Lot.id.in_(wanted)))
    return {lot.id: lot for lot in rows}


async def _items(session: AsyncSession, org_id: uuid.UUID,
                 ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Item]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.scalars(sa.select(Item).where(Item.org_id == org_id,
                                                       Item.id.in_(wanted)))
    return {item.id: item for item in rows}


async def _reads(session: AsyncSession, org_id: uuid.UUID, lots: dict[uuid.UUID, Lot],
                 depths: dict[uuid.UUID, int]) -> list[TraceLot]:
    ordered = sorted(lots.values(), key=lambda lot: (depths.get(lot.id, 0), lot.received_at,
                                                     lot.id))
    items = await _items(session, org_id, (lot.item_id for lot in ordered))
    return [TraceLot(**read.model_dump(), item_name=items[read.item_id].name,
                     item_type=items[read.item_id].type, sku=items[read.item_id].sku,
                     depth=depths.get(read.id, 0))
            for read in await lot_reads(session, ordered, utcnow())]


async def _batches(session: AsyncSession, org_id: uuid.UUID,
                   batch_ids: list[uuid.UUID]) -> list[TraceBatch]:
    if not batch_ids:
        return []
    consumed = (await session.execute(_consumed_by_batch().where(
        Movement.org_id == org_id, Movement.batch_id.in_(batch_ids)))).all()
    # The lots a batch made have its `batch_output` movement; lots split off them later keep
    # the batch's id but are the same stock, moved.
    made = list(await session.scalars(
        sa.select(Lot).join(Movement, Movement.lot_id == Lot.id)
        .where(Movement.org_id == org_id, Movement.kind == "batch_output",
               Movement.batch_id.in_(batch_ids))
        .order_by(Lot.received_at, Lot.id)))
    started = dict((await session.execute(
        sa.select(Movement.batch_id, sa.func.min(Movement.occurred_at))
        .where(Movement.org_id == org_id, Movement.batch_id.in_(batch_ids))
        .group_by(Movement.batch_id))).all())
    lots = await _lots(session, org_id, {lot_id for _, lot_id, _ in consumed})
    lots |= {lot.id: lot for lot in made}
    items = await _items(session, org_id, {lot.item_id for lot in lots.values()})

    def quantity(lot: Lot, amount: Decimal) -> LotQuantity:
        item = items[lot.item_id]
        return LotQuantity(lot_id=lot.id, lot_number=lot.lot_number, item_id=item.id,
                           item_name=item.name, quantity=amount, unit=item.default_unit)

    by_batch = {b: TraceBatch(batch_id=b, started_at=started.get(b), consumed=[], made=[])
                for b in batch_ids}
    for batch_id, lot_id, amount in consumed:
        by_batch[batch_id].consumed.append(quantity(lots[lot_id], Decimal(amount)))
    for lot in made:
        assert lot.batch_id is not None
        by_batch[lot.batch_id].made.append(quantity(lot, lot.quantity_received))
    return list(by_batch.values())


async def _sales(session: AsyncSession, org_id: uuid.UUID, lot_ids: list[uuid.UUID], *,
                 include_returned: bool) -> list[TraceSale]:
    """Orders and fulfilled reservations that took from these lots, net of returns."""
    if not lot_ids:
        return []
    rows = (await session.execute(
        sa.select(Movement.order_id, Movement.reservation_id, Movement.lot_id,
                  Movement.kind, Movement.quantity, Movement.reason, Movement.occurred_at)
        .where(Movement.org_id == org_id, Movement.lot_id.in_(lot_ids),
               Movement.kind.in_(("sale", "sale_return")),
               sa.or_(Movement.order_id.is_not(None), Movement.reservation_id.is_not(None)))
        .order_by(Movement.id))).all()
    lots = await _lots(session, org_id, {row.lot_id for row in rows})
    items = await _items(session, org_id, {lot.item_id for lot in lots.values()})
    customers = dict((await session.execute(
        sa.select(Reservation.id, Reservation.customer_name).where(
            Reservation.org_id == org_id,
            Reservation.id.in_({r.reservation_id for r in rows if r.reservation_id})))
    ).all())
    sales: dict[tuple[uuid.UUID | None, uuid.UUID | None], TraceSale] = {}
    lines: dict[tuple[uuid.UUID | None, uuid.UUID | None], dict[uuid.UUID, SaleLine]] = \
        defaultdict(dict)
    for row in rows:
        key = (row.order_id, row.reservation_id)
        sale = sales.setdefault(key, TraceSale(
            order_id=row.order_id, reservation_id=row.reservation_id,
            customer_name=customers.get(row.reservation_id), reference=row.reason,
            sold_at=row.occurred_at, lines=[]))
        lot = lots[row.lot_id]
        item = items[lot.item_id]
        line = lines[key].get(lot.id)
        if line is None:
            line = lines[key][lot.id] = SaleLine(
                lot_id=lot.id, lot_number=lot.lot_number, item_id=item.id,
                item_name=item.name, quantity=ZERO, returned=ZERO, unit=item.default_unit)
            sale.lines.append(line)
        line.quantity -= row.quantity  # sales are negative, returns positive
        if row.kind == "sale_return":
            line.returned += row.quantity
    result = []
    for sale in sales.values():
        if not include_returned:
            sale.lines = [line for line in sale.lines if line.quantity > 0]
        if sale.lines:
            result.append(sale)
    return result


async def _suppliers(session: AsyncSession, org_id: uuid.UUID,
                     lots: list[Lot]) -> list[SupplierRef]:
    ids = {lot.supplier_id for lot in lots if lot.supplier_id is not None}
    if not ids:
        return []
    rows = await session.scalars(sa.select(Supplier).where(
        Supplier.org_id == org_id, Supplier.id.in_(ids)).order_by(Supplier.name))
    return [SupplierRef(id=s.id, name=s.name, email=s.email, phone=s.phone) for s in rows]


async def _bills(session: AsyncSession, org_id: uuid.UUID, lots: list[Lot]) -> list[BillRef]:
    by_bill: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for lot in lots:
        if lot.purchase_bill_id is not None:
            by_bill[lot.purchase_bill_id].append(lot.id)
    if not by_bill:
        return []
    rows = await session.scalars(sa.select(PurchaseBill).where(
        PurchaseBill.org_id == org_id, PurchaseBill.id.in_(by_bill))
        .order_by(PurchaseBill.billed_at))
    return [BillRef(id=b.id, bill_number=b.bill_number, billed_at=b.billed_at,
                    supplier_id=b.supplier_id, lot_ids=sorted(by_bill[b.id])) for b in rows]
