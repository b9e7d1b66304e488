"""`ItemChanged`: an item's full current state, which the recipes service keeps a read model of.

Items are read for it through the catalog's read-model query (`figures.ItemsWithStock`), which
brings their stock figures and their category's and supplier's names along: publishing for
many items at once (each item a purchase moved the cost basis of, each item of a renamed
category) reads them in one statement, however many they are.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from contracts import ItemChanged
from inventory.catalog import domain
from inventory.catalog.figures import ItemsWithStock, StockedItem, stocked
from inventory.models import Item
from servicekit.db import UnitOfWork


def item_changed(item: StockedItem) -> ItemChanged:
    return ItemChanged(
        item_id=item.id, name=item.name, type=item.type, sku=item.sku,
        default_unit=item.default_unit, count_unit=item.count_unit,
        density_g_per_ml=item.density_g_per_ml,
        unit_cost=item.unit_cost, allergens=tuple(item.allergens or ()),
        shelf_life_days=item.shelf_life_days,
        low_stock_threshold=item.low_stock_threshold, archived=item.archived,
        category_name=item.category_name, supplier_name=item.supplier_name,
        nutrition_per_100g=domain.nutrition_figures(item.nutrition_per_100g),
        purchase_unit=item.purchase_unit, purchase_quantity=item.purchase_quantity,
        purchase_price=item.purchase_price,
    )


async def items_to_publish(uow: UnitOfWork, org_id: uuid.UUID,
                           where: sa.ColumnElement[bool]) -> list[StockedItem]:
    """The org's items matching `where` (a condition on `Item`), as `ItemChanged` states them,
    by name; from then on until the unit of work ends, no category or supplier is renamed."""
    await hold_names(uow, org_id)
    rows = (await uow.session.execute(
        ItemsWithStock(org_id).select.where(where).order_by(Item.name, Item.id))).all()
    return [stocked(row) for row in rows]


async def publish_item_changes(uow: UnitOfWork, org_id: uuid.UUID,
                               where: sa.ColumnElement[bool]) -> list[StockedItem]:
    """Write `ItemChanged` to the outbox for each of the org's items matching `where`."""
    items = await items_to_publish(uow, org_id, where)
    for item in items:
        uow.publish(item_changed(item), org_id=org_id, subject=str(item.id))
    return items


async def hold_names(uow: UnitOfWork, org_id: uuid.UUID, *, renaming: bool = False) -> None:
    """Hold the org's category and supplier names still until the unit of work ends: shared by
    transactions publishing items, exclusively by one renaming a category or supplier.

    A rename publishes for every item it names. Without the lock, a transaction publishing an
    item of it (or putting an item in it) could read the old name while the rename, not seeing
    that transaction's item yet, leaves it out: the item would keep the old name. With it, one
    waits for the other to commit and then reads its outcome. One lock per organization, not
    per row, so a category rename and a supplier rename cannot deadlock over shared items;
    renames are rare and quick. SQLite runs one writer at a time and needs none.
    """
    if uow.db.is_sqlite:
        return
    key = sa.func.hashtextextended(f"inventory.item.names:{org_id}", 0)
    lock = sa.func.pg_advisory_xact_lock if renaming else sa.func.pg_advisory_xact_lock_shared
    await uow.session.execute(sa.select(lock(key)))
