"""Items as stock sees them: loaded within the caller's organization, quantities in their unit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.catalog.service import ItemNotFound
from inventory.models import Item
from inventory.stock.errors import QuantityOutOfRange
from servicekit.decimals import ZERO, on_scale
from servicekit.units import ItemUnits, convert

# Quantities and costs are NUMERIC(24, 8): sixteen digits before the point. These bounds keep
# every product of a quantity and a unit cost inside it.
MAX_QUANTITY = Decimal(10) ** 12
MAX_MONEY = Decimal(10) ** 14


def item_units(item: Item) -> ItemUnits:
    return ItemUnits(item_id=str(item.id), name=item.name,
                     density_g_per_ml=item.density_g_per_ml, count_unit=item.count_unit)


async def get_item(session: AsyncSession, org_id: uuid.UUID, item_id: uuid.UUID) -> Item:
    item = await session.scalar(sa.select(Item).where(Item.org_id == org_id, Item.id == item_id))
    if item is None:
        raise ItemNotFound(details={"item_id": str(item_id)})
    return item


async def items_by_id(session: AsyncSession, org_id: uuid.UUID,
                      item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Item]:
    """The organization's items among `item_ids` (another organization's are simply absent)."""
    wanted = set(item_ids)
    if not wanted:
        return {}
    rows = await session.scalars(sa.select(Item).where(Item.org_id == org_id,
                                                       Item.id.in_(wanted)))
    return {item.id: item for item in rows}


def to_default_unit(item: Item, quantity: Decimal, unit: str | None, *,
                    allow_zero: bool = False) -> Decimal:
    """`quantity` of `unit` in the item's default unit, on the ledger's scale.

    Refuses (422) a unit that does not convert, and a result that rounds to nothing or is too
    large to keep exactly.
    """
    converted = quantity if unit in (None, item.default_unit) else convert(
        quantity, unit, item.default_unit, item_units(item))
    scaled = on_scale(converted)
    if scaled > MAX_QUANTITY or (scaled == ZERO and not (allow_zero and quantity == 0)):
        raise QuantityOutOfRange(
            f"{quantity} {unit or item.default_unit} is {converted} {item.default_unit}: "
            f"quantities must lie between 0.00000001 and {MAX_QUANTITY} in the item's unit",
            details={"item_id": str(item.id), "quantity": str(quantity),
                     "unit": unit or item.default_unit, "default_unit": item.default_unit},
        )
    return scaled


def from_default_unit(item: Item, quantity: Decimal, unit: str) -> Decimal:
    """`quantity` of the item's default unit in `unit`, on the ledger's scale."""
    if unit == item.default_unit:
        return on_scale(quantity)
    return on_scale(convert(quantity, item.default_unit, unit, item_units(item)))


def cost_per_default_unit(item: Item, cost_per_unit: Decimal, unit: str | None) -> Decimal:
    """A price per `unit` as a price per one of the item's default unit."""
    if unit in (None, item.default_unit):
        return on_scale(cost_per_unit)
    # One `unit` is `factor` default units, so one default unit costs price / factor.
    factor = convert(Decimal(1), unit, item.default_unit, item_units(item))
    return on_scale(cost_per_unit / factor)


def checked_money(value: Decimal, what: str = "cost") -> Decimal:
    if abs(value) > MAX_MONEY:
        raise QuantityOutOfRange(f"The {what} {value} is larger than {MAX_MONEY}",
                                 details={what: str(value)})
    return on_scale(value)
