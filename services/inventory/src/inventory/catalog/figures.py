"""Items' stock figures, computed in the same query that selects the items; and one item's
stock by location.

However many items a page shows, their on-hand, reserved, available, low-stock flag, FIFO cost
basis and value come from one statement: the items joined to the stock-level aggregates that
`stock.levels` defines (the one definition of the figures: lots, the lot-less balance an
oversell leaves, unexpired active reservations) and to one over the lots' cost layers. The
names of their category and supplier come with them, for `ItemChanged`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.catalog import domain
from inventory.models import Category, Item, Location, Lot, Quantity, Supplier
from inventory.stock.levels import LevelFigures, stock_levels, usable_lot
from servicekit.db import utcnow

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class StockedItem:
    """An item with its computed stock (quantities in its default unit).

    Reads as the item too (`stocked.name`), so one object feeds the read model and events.
    """

    item: Item
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    low_stock: bool
    unit_cost: Decimal | None  # FIFO cost basis: the oldest lot with stock left
    stock_value: Decimal
    category_name: str | None
    supplier_name: str | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.item, name)


def _cost_totals(org_id: uuid.UUID) -> sa.Subquery:
    """Per item, the value of its lots with stock left and its FIFO cost basis."""
    oldest_first = (Lot.received_at, Lot.created_at, Lot.id)
    layers = (
        sa.select(
            Lot.item_id,
            (Lot.quantity_remaining * Lot.unit_cost).label("value"),
            sa.func.first_value(Lot.unit_cost)
            .over(partition_by=Lot.item_id, order_by=oldest_first).label("basis"),
        )
        .where(Lot.org_id == org_id, Lot.quantity_remaining > 0)
        .subquery("layer")
    )
    return (
        sa.select(
            layers.c.item_id,
            sa.func.sum(layers.c.value).label("stock_value"),
            sa.func.min(layers.c.basis).label("unit_cost"),
        )
        .group_by(layers.c.item_id)
        .subquery("cost_totals")
    )


def _amount(expression: sa.ColumnElement[Any]) -> sa.ColumnElement[Decimal]:
    return sa.type_coerce(sa.func.coalesce(expression, 0), Quantity)


class ItemsWithStock:
    """The query of an org's items with their figures; add filters, then run it."""

    def __init__(self, org_id: uuid.UUID, *, now: datetime | None = None) -> None:
        levels, costs = LevelFigures(org_id, now=now or utcnow()), _cost_totals(org_id)
        self.on_hand = levels.on_hand
        self.reserved = levels.reserved
        self.available = levels.available
        self.low_stock = sa.and_(Item.low_stock_threshold.is_not(None),
                                 self.available <= Item.low_stock_threshold)
        self.select = levels.join(
            sa.select(
                Item,
                self.on_hand.label("on_hand"),
                self.reserved.label("reserved"),
                self.available.label("available"),
                self.low_stock.label("low_stock"),
                sa.type_coerce(costs.c.unit_cost, Quantity).label("unit_cost"),
                _amount(costs.c.stock_value).label("stock_value"),
                Category.name.label("category_name"),
                Supplier.name.label("supplier_name"),
            )
            .outerjoin(costs, costs.c.item_id == Item.id)
            .outerjoin(Category, sa.and_(Category.id == Item.category_id,
                                         Category.org_id == org_id))
            .outerjoin(Supplier, sa.and_(Supplier.id == Item.supplier_id,
                                         Supplier.org_id == org_id))
            .where(Item.org_id == org_id),
            Item.id,
        )


def stocked(row: sa.Row[Any]) -> StockedItem:
    return StockedItem(item=row[0], on_hand=row.on_hand, reserved=row.reserved,
                       available=row.available, low_stock=bool(row.low_stock),
                       unit_cost=row.unit_cost, stock_value=row.stock_value,
                       category_name=row.category_name, supplier_name=row.supplier_name)


# --- one item's stock by location ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LocationStock:
    location_id: uuid.UUID
    location_name: str
    kind: str
    is_default: bool
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    stock_value: Decimal


@dataclass(frozen=True, slots=True)
class StockTotals:
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    stock_value: Decimal


@dataclass(frozen=True, slots=True)
class ItemStock:
    item_id: uuid.UUID
    unit: str
    locations: list[LocationStock]
    total: StockTotals


async def stock_by_location(session: AsyncSession, item: Item) -> ItemStock:
    """`item`'s stock at every location of its org (the default first), and in total.

    The total is the item's stock level (`stock.levels`). Reservations name no location, so
    they are spread over the usable lots the item would be consumed from first; the lot-less
    balance of an oversell, like what is reserved beyond the usable stock, is put on the
    default location, so the locations add up to the total."""
    org_id = item.org_id
    now = utcnow()
    locations = (await session.scalars(
        sa.select(Location).where(Location.org_id == org_id)
        .order_by(Location.is_default.desc(), Location.name, Location.id))).all()
    first = (Lot.expires_at.asc().nulls_last(),) if item.consumption_order == "fefo" else ()
    lots = (await session.execute(
        sa.select(Lot.location_id, Lot.quantity_remaining, Lot.unit_cost,
                  usable_lot(now).label("usable"))
        .where(Lot.org_id == org_id, Lot.item_id == item.id, Lot.quantity_remaining > 0)
        .order_by(*first, Lot.received_at, Lot.created_at, Lot.id))).all()
    level = (await stock_levels(session, org_id, [item.id], now=now))[item.id]

    on_hand: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    usable: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    value: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for lot in lots:
        on_hand[lot.location_id] += lot.quantity_remaining
        if lot.usable:
            usable[lot.location_id] += lot.quantity_remaining
        value[lot.location_id] += lot.quantity_remaining * lot.unit_cost
    default_id = next((location.id for location in locations if location.is_default), None)
    if default_id is not None:
        unlotted = level.on_hand - sum(on_hand.values(), ZERO)
        on_hand[default_id] += unlotted
        usable[default_id] += unlotted
    held = domain.reserved_by_location(
        [domain.LotStock(lot.location_id, lot.quantity_remaining) for lot in lots if lot.usable],
        level.reserved, default_id)
    per_location = [
        LocationStock(
            location_id=location.id, location_name=location.name, kind=location.kind,
            is_default=location.is_default, on_hand=on_hand[location.id],
            reserved=held.get(location.id, ZERO),
            available=usable[location.id] - held.get(location.id, ZERO),
            stock_value=value[location.id])
        for location in locations
    ]
    return ItemStock(
        item_id=item.id, unit=item.default_unit, locations=per_location,
        total=StockTotals(on_hand=level.on_hand, reserved=level.reserved,
                          available=level.available, stock_value=sum(value.values(), ZERO)))
