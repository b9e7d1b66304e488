"""Stock levels per item (on hand, reserved, available) and the events their changes raise.

The one definition of an item's stock figures, used here and by the catalog's read model
(`catalog/figures.py` joins the same subqueries, `LevelFigures`, to its page of items):

- on hand: every lot's remaining quantity, plus the item's lot-less balance (the `sale` and
  `sale_return` movements recorded without a lot: what an order oversold, negative while it
  is);
- reserved: the reservations that are active and not past their expiry;
- available: what can be used or sold now: stock in lots that are neither expired nor
  quarantined, plus the lot-less balance, less what is reserved (negative when oversold).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import LowStockDetected, StockLevelChanged
from inventory.models import Item, Lot, Movement, Quantity, Reservation
from servicekit.db import UnitOfWork
from servicekit.decimals import ZERO, tidy


@dataclass(frozen=True, slots=True)
class StockLevel:
    on_hand: Decimal = ZERO
    usable: Decimal = ZERO  # in lots neither expired nor quarantined, plus the lot-less balance
    reserved: Decimal = ZERO
    cost_basis: Decimal | None = None  # unit cost of the oldest lot with stock (FIFO)

    @property
    def available(self) -> Decimal:
        return self.usable - self.reserved

    @property
    def expired_or_held(self) -> Decimal:
        return self.on_hand - self.usable


def usable_lot(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Lot.quarantined.is_(False),
                   sa.or_(Lot.expires_at.is_(None), Lot.expires_at > now))


def active_reservation(now: datetime | sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    return sa.and_(Reservation.status == "active",
                   sa.or_(Reservation.expires_at.is_(None), Reservation.expires_at > now))


# Lot-less movements of these kinds make an item's oversold balance (orders.py).
UNLOTTED_KINDS = ("sale", "sale_return")


def _amount(expression: sa.ColumnElement[Any]) -> sa.ColumnElement[Decimal]:
    return sa.type_coerce(sa.func.coalesce(expression, 0), Quantity)


class LevelFigures:
    """Per-item aggregates of an org's stock (lots, lot-less balance, reservations) as
    subqueries keyed by `item_id`, and the figures' expressions over them. `join` outer-joins
    them to a select on `item_id`, which may be a column of any table, so a page of items and
    `stock_levels` get their figures from one statement each."""

    def __init__(self, org_id: uuid.UUID, *, now: datetime,
                 item_ids: Iterable[uuid.UUID] | None = None) -> None:
        ids = None if item_ids is None else set(item_ids)

        def only(column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
            return sa.true() if ids is None else column.in_(ids)

        self.lots = (
            sa.select(Lot.item_id, sa.func.sum(Lot.quantity_remaining).label("on_hand"),
                      sa.func.sum(sa.case((usable_lot(now), Lot.quantity_remaining),
                                          else_=0)).label("usable"))
            .where(Lot.org_id == org_id, Lot.quantity_remaining > 0, only(Lot.item_id))
            .group_by(Lot.item_id).subquery("level_lots"))
        self.unlotted = (
            sa.select(Movement.item_id, sa.func.sum(Movement.quantity).label("balance"))
            .where(Movement.org_id == org_id, Movement.lot_id.is_(None),
                   Movement.kind.in_(UNLOTTED_KINDS), only(Movement.item_id))
            .group_by(Movement.item_id).subquery("level_unlotted"))
        self.reservations = (
            sa.select(Reservation.item_id, sa.func.sum(Reservation.quantity).label("reserved"))
            .where(Reservation.org_id == org_id, active_reservation(now),
                   only(Reservation.item_id))
            .group_by(Reservation.item_id).subquery("level_reserved"))
        balance = _amount(self.unlotted.c.balance)
        self.on_hand = _amount(self.lots.c.on_hand) + balance
        self.usable = _amount(self.lots.c.usable) + balance
        self.reserved = _amount(self.reservations.c.reserved)
        self.available = self.usable - self.reserved

    def join(self, query: sa.Select[Any], item_id: sa.ColumnElement[uuid.UUID],
             ) -> sa.Select[Any]:
        return (query.outerjoin(self.lots, self.lots.c.item_id == item_id)
                .outerjoin(self.unlotted, self.unlotted.c.item_id == item_id)
                .outerjoin(self.reservations, self.reservations.c.item_id == item_id))


def level_of_lots(lots: Iterable[Lot], *, now: datetime, unlotted: Decimal = ZERO,
                  reserved: Decimal = ZERO) -> StockLevel:
    """One item's level from all its lots with stock, as held in memory, plus its lot-less
    balance and what is reserved: what `stock_levels` would read, without reading. Only exact
    for lots that are locked (`ledger.lock_lots`), so that memory is what the database holds.
    """
    on_hand = usable = ZERO
    oldest: Lot | None = None
    for lot in lots:
        quantity = lot.quantity_remaining
        if quantity <= 0:
            continue
        on_hand += quantity
        if not lot.quarantined and (lot.expires_at is None or lot.expires_at > now):
            usable += quantity
        # The FIFO cost basis, ordered as `cost_bases` orders (UUIDs compare as PostgreSQL's).
        if oldest is None or (lot.received_at, lot.id) < (oldest.received_at, oldest.id):
            oldest = lot
    return StockLevel(on_hand=on_hand + unlotted, usable=usable + unlotted, reserved=reserved,
                      cost_basis=None if oldest is None else Decimal(oldest.unit_cost))


def lotless_figures(org_id: sa.ColumnElement[Any], now: sa.ColumnElement[Any],
                    ) -> tuple[sa.ColumnElement[Decimal], sa.ColumnElement[Decimal]]:
    """An item's lot-less balance and what is reserved of it, as columns correlated to
    `Item.id` (for a select from `Item`): the parts of its level that no lot holds. With its
    lots locked and in hand, `level_of_lots` makes the rest without reading them again."""
    unlotted = (
        sa.select(sa.func.sum(Movement.quantity))
        .where(Movement.org_id == org_id, Movement.item_id == Item.id,
               Movement.lot_id.is_(None), Movement.kind.in_(UNLOTTED_KINDS))
        .scalar_subquery())
    reserved = (
        sa.select(sa.func.sum(Reservation.quantity))
        .where(Reservation.org_id == org_id, Reservation.item_id == Item.id,
               active_reservation(now))
        .scalar_subquery())
    return _amount(unlotted), _amount(reserved)


async def stock_levels(session: AsyncSession, org_id: uuid.UUID, item_ids: Iterable[uuid.UUID],
                       *, now: datetime) -> dict[uuid.UUID, StockLevel]:
    """Each item's level (items without stock get zeros)."""
    ids = set(item_ids)
    if not ids:
        return {}
    figures = LevelFigures(org_id, now=now, item_ids=ids)
    rows = await session.execute(figures.join(
        sa.select(Item.id, figures.on_hand, figures.usable, figures.reserved)
        .where(Item.org_id == org_id, Item.id.in_(ids)), Item.id))
    bases = await cost_bases(session, org_id, ids)
    levels = {item_id: StockLevel(cost_basis=bases.get(item_id)) for item_id in ids}
    for item_id, on_hand, usable, reserved in rows:
        levels[item_id] = StockLevel(on_hand=Decimal(on_hand), usable=Decimal(usable),
                                     reserved=Decimal(reserved), cost_basis=bases.get(item_id))
    return levels


async def cost_bases(session: AsyncSession, org_id: uuid.UUID,
                     item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    """Each item's FIFO cost basis: the unit cost of its oldest lot with stock left."""
    ranked = (
        sa.select(Lot.item_id, Lot.unit_cost, sa.func.row_number().over(
            partition_by=Lot.item_id, order_by=(Lot.received_at, Lot.id)).label("rank"))
        .where(Lot.org_id == org_id, Lot.item_id.in_(list(item_ids)),
               Lot.quantity_remaining > 0)
        .subquery()
    )
    rows = await session.execute(
        sa.select(ranked.c.item_id, ranked.c.unit_cost).where(ranked.c.rank == 1))
    return {item_id: Decimal(cost) for item_id, cost in rows}


async def announce_changes(uow: UnitOfWork, org_id: uuid.UUID, items: Iterable[Item],
                           before: Mapping[uuid.UUID, StockLevel], *, cause: str,
                           now: datetime) -> None:
    """Publish `StockLevelChanged` for each product whose available quantity moved,
    `LowStockDetected` for each item that fell to or below its threshold just now, and
    `ItemChanged` for each item whose cost basis moved (recipes cost from it)."""
    by_id = {item.id: item for item in items}
    await uow.session.flush()
    after = await stock_levels(uow.session, org_id, by_id, now=now)
    await publish_changes(uow, org_id, by_id.values(), before, after, cause=cause)


async def publish_changes(uow: UnitOfWork, org_id: uuid.UUID, items: Iterable[Item],
                          before: Mapping[uuid.UUID, StockLevel],
                          after: Mapping[uuid.UUID, StockLevel], *, cause: str) -> None:
    """`announce_changes` with the levels after the change already known (every item's)."""
    # Imported here: the catalog builds its figures on this module.
    from inventory.catalog.events import item_changed, items_to_publish

    by_id = {item.id: item for item in items}
    costed = [item_id for item_id in by_id
              if before.get(item_id, StockLevel()).cost_basis != after[item_id].cost_basis]
    # One statement reads them all, however many lines the purchase or count had.
    recosted = ({stocked.id: stocked
                 for stocked in await items_to_publish(uow, org_id, Item.id.in_(costed))}
                if costed else {})
    for item_id, item in by_id.items():
        old, new = before.get(item_id, StockLevel()), after[item_id]
        if item.type == "product" and old.available != new.available:
            uow.publish(StockLevelChanged(
                item_id=item.id, sku=item.sku, on_hand=tidy(new.on_hand),
                reserved=tidy(new.reserved), available=tidy(new.available),
                unit=item.default_unit, cause=cause,
            ), org_id=org_id, subject=str(item.id))
        if item_id in recosted:
            uow.publish(item_changed(recosted[item_id]), org_id=org_id, subject=str(item_id))
        threshold = item.low_stock_threshold
        if threshold is not None and old.available > threshold >= new.available:
            uow.publish(LowStockDetected(
                item_id=item.id, name=item.name, available=tidy(new.available),
                threshold=tidy(threshold),
                unit=item.default_unit,
            ), org_id=org_id, subject=str(item.id))
