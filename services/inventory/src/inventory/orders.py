"""Channel orders: `OrderReceived` sells product stock by SKU, `OrderCancelled` puts it back.

A sale is recorded, never refused (DESIGN.md, "Orders and channel sync"). Each line takes FIFO
from the product's usable lots, leaving stock that customers have reserved; what the lots
cannot cover is still a `sale` movement, without a lot, so the item's on-hand in the ledger
goes negative while no lot ever does. Such an oversell raises a `LowStockDetected` alert.

A line whose SKU names no item of the organization deducts nothing and does not hold up the
others: there is no item to write a movement against, so it is logged (with the order, channel
and SKU) for someone to map the SKU. Both handlers are idempotent by the ledger as well as by
the inbox: an order that has sales on record is not sold again under another event id, and a
cancellation returns only what is still out. Per order they run one at a time.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import structlog

from contracts import LowStockDetected, OrderCancelled, OrderReceived
from inventory.handlers import handlers
from inventory.models import Item, Lot, Movement
from inventory.stock import ledger
from inventory.stock.domain import Picking
from inventory.stock.levels import StockLevel, announce_changes, stock_levels
from servicekit.db import UnitOfWork, utcnow
from servicekit.decimals import ZERO, on_scale, tidy
from servicekit.messaging import Envelope

logger = structlog.get_logger("inventory.orders")


@handlers.on(OrderReceived)
async def sell_order_stock(uow: UnitOfWork, event: OrderReceived, envelope: Envelope) -> None:
    await record_sale(uow, uuid.UUID(envelope.orgid), event)


@handlers.on(OrderCancelled)
async def return_order_stock(uow: UnitOfWork, event: OrderCancelled,
                             envelope: Envelope) -> None:
    await return_sale(uow, uuid.UUID(envelope.orgid), event)


async def record_sale(uow: UnitOfWork, org_id: uuid.UUID, event: OrderReceived) -> None:
    now = utcnow()
    log = logger.bind(order_id=str(event.order_id), channel_id=str(event.channel_id),
                      external_order_id=event.external_order_id)
    await _one_at_a_time(uow, org_id, event.order_id)
    already = await uow.session.scalar(
        sa.select(Movement.id).where(Movement.org_id == org_id,
                                     Movement.order_id == event.order_id,
                                     Movement.kind == "sale").limit(1))
    if already is not None:
        log.info("order already sold from stock; nothing more to deduct")
        return
    items = await _items_by_sku(uow, org_id, {line.sku for line in event.lines})
    for line in event.lines:
        if line.sku not in items:
            log.warning("order line names a SKU no item of the organization has; not deducted",
                        sku=line.sku, quantity=str(line.quantity))
    # One statement locks every lot the order could take from, in lot-id order.
    lots = await ledger.lock_lots(uow, org_id, {item.id for item in items.values()})
    before = await stock_levels(uow.session, org_id, {i.id for i in items.values()}, now=now)
    provenance = ledger.Provenance(
        actor=f"event:{event.routing_key()}", order_id=event.order_id,
        reason=f"{event.channel_type} order {event.external_order_id}")
    oversold: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for line in event.lines:
        item = items.get(line.sku)
        if item is None:
            continue
        quantity = on_scale(line.quantity)  # an order line counts the item's default unit
        if quantity <= 0:
            log.warning("order line quantity rounds to nothing; not deducted", sku=line.sku)
            continue
        item_lots = lots.get(item.id, [])
        covered = _coverable(item, item_lots, quantity, before[item.id], now)
        if covered is not None:
            ledger.take(uow, org_id, item, covered, {lot.id: lot for lot in item_lots},
                        kind="sale", provenance=provenance)
        rest = quantity - (covered.quantity if covered is not None else ZERO)
        if rest > 0:
            unit_cost = await ledger.latest_unit_cost(uow.session, org_id, item.id)
            ledger.record(uow, org_id, item_id=item.id, kind="sale", quantity=-rest,
                          unit_cost=unit_cost, provenance=_oversold(provenance, rest, item))
            oversold[item.id] += rest
            log.warning("order oversold the item: recorded without a lot", sku=line.sku,
                        oversold=str(rest))
    sold = [items[sku] for sku in {line.sku for line in event.lines} if sku in items]
    await announce_changes(uow, org_id, sold, before, cause="order_received", now=now)
    await _alert_oversold(uow, org_id, [i for i in sold if i.id in oversold], before, now)


def _coverable(item: Item, lots: list[Lot], quantity: Decimal, level: StockLevel,
               now: datetime) -> Picking | None:
    """The picking for as much of `quantity` as the usable lots hold beyond what is reserved
    (all of it when they hold enough; None when they hold nothing to spare)."""
    outcome = ledger.plan(item, lots, quantity, now=now, keep=level.reserved)
    if isinstance(outcome, Picking):
        return outcome
    spare = min(outcome.available, quantity)
    if spare <= 0:
        return None
    partial = ledger.plan(item, lots, spare, now=now, keep=level.reserved)
    assert isinstance(partial, Picking)
    return partial


def _oversold(provenance: ledger.Provenance, rest: Decimal,
              item: Item) -> ledger.Provenance:
    return ledger.Provenance(
        actor=provenance.actor, order_id=provenance.order_id,
        reason=f"{provenance.reason}: oversold {tidy(rest)} {item.default_unit}, "
               "no lot held it")


async def _alert_oversold(uow: UnitOfWork, org_id: uuid.UUID, items: list[Item],
                          before: dict[uuid.UUID, StockLevel], now: datetime) -> None:
    """An oversell is always worth an alert. `announce_changes` already raised one for an
    item that crossed its threshold just now; every other oversold item gets one here (an
    item without a threshold against zero)."""
    if not items:
        return
    after = await stock_levels(uow.session, org_id, {i.id for i in items}, now=now)
    for item in items:
        threshold = item.low_stock_threshold
        old, new = before[item.id], after[item.id]
        if threshold is not None and old.available > threshold >= new.available:
            continue
        uow.publish(LowStockDetected(
            item_id=item.id, name=item.name, available=tidy(new.available),
            threshold=tidy(threshold if threshold is not None else ZERO),
            unit=item.default_unit,
        ), org_id=org_id, subject=str(item.id))


# --- cancellation ----------------------------------------------------------------------------

@dataclass(slots=True)
class _Out:
    """What an order still has out of one lot (or, lot-less, oversold) of one item."""

    item_id: uuid.UUID
    lot_id: uuid.UUID | None
    quantity: Decimal
    unit_cost: Decimal | None
    last_movement: int


async def return_sale(uow: UnitOfWork, org_id: uuid.UUID, event: OrderCancelled) -> None:
    now = utcnow()
    log = logger.bind(order_id=str(event.order_id), external_order_id=event.external_order_id)
    await _one_at_a_time(uow, org_id, event.order_id)
    outstanding = await _still_out(uow, org_id, event.order_id)
    if not outstanding:
        log.info("cancelled order has no stock out; nothing to return")
        return
    if event.lines is None:
        returns = [(out, out.quantity) for out in outstanding]
    else:
        returns = await _partial(uow, org_id, event, outstanding, log)
    item_ids = {out.item_id for out, _ in returns}
    items = await uow.session.scalars(
        sa.select(Item).where(Item.org_id == org_id, Item.id.in_(item_ids)))
    by_id = {item.id: item for item in items}
    await ledger.lock_lots(uow, org_id, item_ids)
    before = await stock_levels(uow.session, org_id, item_ids, now=now)
    provenance = ledger.Provenance(actor=f"event:{event.routing_key()}",
                                   order_id=event.order_id,
                                   reason=f"order {event.external_order_id} cancelled")
    to_lots: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for out, quantity in returns:
        if out.lot_id is not None:
            to_lots[out.lot_id] += quantity
        else:  # an oversold part comes back as it went: without a lot, at the same cost
            ledger.record(uow, org_id, item_id=out.item_id, kind="sale_return",
                          quantity=quantity, unit_cost=out.unit_cost, provenance=provenance)
    await ledger.restore_to_lots(uow, org_id, to_lots, kind="sale_return",
                                 provenance=provenance)
    await announce_changes(uow, org_id, by_id.values(), before, cause="order_cancelled",
                           now=now)


async def _still_out(uow: UnitOfWork, org_id: uuid.UUID, order_id: uuid.UUID) -> list[_Out]:
    """Per item and lot, what the order's sales took less what came back, latest taken first
    (so a partial cancellation undoes the oversold part before stock from lots)."""
    rows = await uow.session.execute(
        sa.select(Movement.item_id, Movement.lot_id, sa.func.sum(Movement.quantity),
                  sa.func.sum(sa.case((Movement.kind == "sale", Movement.cost), else_=0)),
                  sa.func.sum(sa.case((Movement.kind == "sale", Movement.quantity), else_=0)),
                  sa.func.max(Movement.id))
        .where(Movement.org_id == org_id, Movement.order_id == order_id,
               Movement.kind.in_(("sale", "sale_return")))
        .group_by(Movement.item_id, Movement.lot_id))
    out = []
    for item_id, lot_id, net, sold_cost, sold, last in rows:
        if net >= 0:
            continue
        unit_cost = on_scale(Decimal(sold_cost) / Decimal(sold)) if sold_cost and sold else None
        out.append(_Out(item_id, lot_id, -Decimal(net), unit_cost, last))
    return sorted(out, key=lambda o: o.last_movement, reverse=True)


async def _partial(uow: UnitOfWork, org_id: uuid.UUID, event: OrderCancelled,
                   outstanding: list[_Out], log: structlog.BoundLogger,
                   ) -> list[tuple[_Out, Decimal]]:
    """The cancelled lines' quantities, each SKU's from its latest-taken stock first, capped
    at what the order still has out."""
    assert event.lines is not None
    items = await _items_by_sku(uow, org_id, {line.sku for line in event.lines})
    wanted: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for line in event.lines:
        item = items.get(line.sku)
        if item is None:
            log.warning("cancelled line names a SKU no item has; nothing returned", sku=line.sku)
            continue
        wanted[item.id] += on_scale(line.quantity)
    returns = []
    for out in outstanding:
        give = min(out.quantity, wanted.get(out.item_id, ZERO))
        if give > 0:
            returns.append((out, give))
            wanted[out.item_id] -= give
    for item_id, left in wanted.items():
        if left > 0:
            log.warning("cancellation asks back more than the order has out",
                        item_id=str(item_id), not_returned=str(left))
    return returns


# --- shared ----------------------------------------------------------------------------------

async def _items_by_sku(uow: UnitOfWork, org_id: uuid.UUID, skus: set[str]) -> dict[str, Item]:
    if not skus:
        return {}
    rows = await uow.session.scalars(
        sa.select(Item).where(Item.org_id == org_id, Item.sku.in_(skus)))
    return {item.sku: item for item in rows if item.sku is not None}


async def _one_at_a_time(uow: UnitOfWork, org_id: uuid.UUID, order_id: uuid.UUID) -> None:
    """Serialize the handling of one order (its receipt and cancellations, under whatever event
    ids) until this transaction ends, so the ledger check that makes them idempotent holds.
    SQLite lets one writer in at a time anyway."""
    if uow.db.is_sqlite:
        return
    await uow.session.execute(sa.select(sa.func.pg_advisory_xact_lock(
        sa.func.hashtextextended(f"inventory.order:{org_id}:{order_id}", 0))))
