"""Item use cases: each owns its transaction and writes `ItemChanged` to the outbox with it.

Helpers other parts of inventory may call inside their own unit of work (they never commit):
`get_item`, `item_units`, `get_stocked_item` and `default_location` (and, in `catalog.events`,
what publishes `ItemChanged`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from contracts import LowStockDetected
from inventory.catalog import domain
from inventory.catalog.events import publish_item_changes
from inventory.catalog.figures import (
    ItemStock,
    ItemsWithStock,
    StockedItem,
    stock_by_location,
    stocked,
)
from inventory.catalog.references import default_location
from inventory.catalog.schemas import ItemCreate, ItemType, ItemUpdate, item_values
from inventory.models import Category, Item, Lot, Supplier
from servicekit.db import UnitOfWork, unique_violated
from servicekit.errors import Conflict, NotFound, ValidationFailed
from servicekit.pagination import Page, PageParams
from servicekit.units import DensityRequired, ItemUnits, density_fix_hint

__all__ = [
    "ItemFilters", "ItemNotFound", "archive_item", "create_item", "default_location",
    "get_item", "get_stocked_item", "item_stock", "item_units", "list_items",
    "list_variants", "update_item",
]

T = TypeVar("T")


class ItemNotFound(NotFound):
    default_message = "Item not found"


class ItemNameTaken(Conflict):
    default_message = "An item with this name already exists"


class SkuTaken(Conflict):
    default_message = "Another item already has this SKU"


class DefaultUnitLocked(Conflict):
    default_message = "The item holds stock in its default unit, which therefore cannot change"


# --- lookups for any use case --------------------------------------------------------------

async def get_item(uow: UnitOfWork, org_id: uuid.UUID, item_id: uuid.UUID, *,
                   for_update: bool = False) -> Item:
    """The org's item, or `ItemNotFound` (also for another org's id); `for_update` locks it."""
    query = sa.select(Item).where(Item.org_id == org_id, Item.id == item_id)
    if for_update:
        query = query.with_for_update()
    item = await uow.session.scalar(query)
    if item is None:
        raise ItemNotFound(details={"item_id": str(item_id)})
    return item


def item_units(item: Item) -> ItemUnits:
    """What unit conversion needs of an item (its density and its own count unit)."""
    return ItemUnits(item_id=str(item.id), name=item.name,
                     density_g_per_ml=item.density_g_per_ml, count_unit=item.count_unit)


async def get_stocked_item(uow: UnitOfWork, org_id: uuid.UUID,
                           item_id: uuid.UUID) -> StockedItem:
    """The org's item with its computed stock figures."""
    figures = ItemsWithStock(org_id)
    row = (await uow.session.execute(figures.select.where(Item.id == item_id))).first()
    if row is None:
        raise ItemNotFound(details={"item_id": str(item_id)})
    return stocked(row)


# --- lists ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ItemFilters:
    type: ItemType | None = None
    category_id: uuid.UUID | None = None
    supplier_id: uuid.UUID | None = None
    low_stock: bool | None = None
    search: str | None = None  # part of the name or SKU, any case
    include_archived: bool = False


async def list_items(uow: UnitOfWork, org_id: uuid.UUID, filters: ItemFilters,
                     params: PageParams, transform: Callable[[StockedItem], T]) -> Page[T]:
    figures = ItemsWithStock(org_id)
    query = figures.select
    if not filters.include_archived:
        query = query.where(Item.archived.is_(False))
    if filters.type is not None:
        query = query.where(Item.type == filters.type)
    if filters.category_id is not None:
        query = query.where(Item.category_id == filters.category_id)
    if filters.supplier_id is not None:
        query = query.where(Item.supplier_id == filters.supplier_id)
    if filters.low_stock is not None:
        query = query.where(figures.low_stock if filters.low_stock else ~figures.low_stock)
    if filters.search:
        query = query.where(sa.or_(Item.name.icontains(filters.search, autoescape=True),
                                   Item.sku.icontains(filters.search, autoescape=True)))
    return await _page(uow, query, params, transform)


async def list_variants(uow: UnitOfWork, org_id: uuid.UUID, item_id: uuid.UUID,
                        params: PageParams, transform: Callable[[StockedItem], T], *,
                        include_archived: bool = False) -> Page[T]:
    """The variants of the org's product `item_id` (none for an item that is no product)."""
    product = await get_item(uow, org_id, item_id)
    query = ItemsWithStock(org_id).select.where(Item.parent_item_id == product.id)
    if not include_archived:
        query = query.where(Item.archived.is_(False))
    return await _page(uow, query, params, transform)


async def _page(uow: UnitOfWork, query: sa.Select[Any], params: PageParams,
                transform: Callable[[StockedItem], T]) -> Page[T]:
    total = await uow.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    rows = (await uow.session.execute(
        query.order_by(Item.name, Item.id).limit(params.per_page).offset(params.offset))).all()
    return Page.build([transform(stocked(row)) for row in rows], int(total or 0), params)


# --- create, update, archive ----------------------------------------------------------------

async def create_item(uow: UnitOfWork, org_id: uuid.UUID, data: ItemCreate) -> StockedItem:
    values = item_values(data)
    await _validate(uow, org_id, values, changed=set(values))
    await _ensure_unique(uow, org_id, values)
    item = Item(org_id=org_id, **values)
    uow.session.add(item)
    return await _save_and_publish(uow, org_id, item)


async def update_item(uow: UnitOfWork, org_id: uuid.UUID, item_id: uuid.UUID,
                      data: ItemUpdate) -> StockedItem:
    item = await get_item(uow, org_id, item_id, for_update=True)
    changes = {field: value for field, value in item_values(data).items()
               if value != getattr(item, field)}
    merged = {field: getattr(item, field) for field in ItemCreate.model_fields} | changes
    await _validate(uow, org_id, merged, changed=set(changes), item=item)
    await _ensure_unique(uow, org_id, changes, except_id=item.id)
    if {"default_unit", "count_unit"} & set(changes):
        await _ensure_unit_change_keeps_stock(uow, org_id, item, merged)
    old_threshold = item.low_stock_threshold
    for field, value in changes.items():
        setattr(item, field, value)
    after = await _save_and_publish(uow, org_id, item, commit=False)
    if "low_stock_threshold" in changes and _fell_low(after, old_threshold):
        uow.publish(LowStockDetected(
            item_id=item.id, name=item.name, available=after.available,
            threshold=item.low_stock_threshold, unit=item.default_unit,
        ), org_id=org_id, subject=str(item.id))
    await uow.commit()
    return after


async def archive_item(uow: UnitOfWork, org_id: uuid.UUID, item_id: uuid.UUID) -> StockedItem:
    """Hide the item from lists and new use; its lots and history stay. Archiving twice is
    a no-op (and publishes nothing the second time)."""
    item = await get_item(uow, org_id, item_id, for_update=True)
    if item.archived:
        return await get_stocked_item(uow, org_id, item_id)
    item.archived = True
    return await _save_and_publish(uow, org_id, item)


def _fell_low(item: StockedItem, old_threshold: Decimal | None) -> bool:
    was_low = old_threshold is not None and item.available <= old_threshold
    return item.low_stock and not was_low and not item.archived


async def _save_and_publish(uow: UnitOfWork, org_id: uuid.UUID, item: Item, *,
                            commit: bool = True) -> StockedItem:
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        if unique_violated(exc, "item", "name"):
            raise _name_taken(item.name) from exc
        if unique_violated(exc, "item", "sku"):
            raise _sku_taken(item.sku) from exc
        raise
    [result] = await publish_item_changes(uow, org_id, Item.id == item.id)
    if commit:
        await uow.commit()
    return result


# --- rules that need the database -------------------------------------------------------------

async def _validate(uow: UnitOfWork, org_id: uuid.UUID, values: dict[str, Any], *,
                    changed: set[str], item: Item | None = None) -> None:
    """Raise one 422 naming every bad field of the item's fields `values` (all of them)."""
    errors: dict[str, list[str]] = defaultdict(list, domain.item_problems(values))
    pack_errors = domain.purchase_pack_problems(values, changed)
    for field, problems in pack_errors.items():
        errors[field] += problems
    for field, model, noun in (("category_id", Category, "category"),
                               ("supplier_id", Supplier, "supplier")):
        if field in changed and values[field] is not None:
            found = await uow.session.scalar(
                sa.select(model.id).where(model.org_id == org_id, model.id == values[field]))
            if found is None:
                errors[field].append(f"names no {noun} of this organization")
    if "parent_item_id" in changed and values["parent_item_id"] is not None:
        if problem := await _parent_problem(uow, org_id, values["parent_item_id"], item):
            errors["parent_item_id"].append(problem)
    if item is not None and {"type", "parent_item_id"} & changed and (
            values["type"] != "product" or values["parent_item_id"] is not None):
        has_variants = await uow.session.scalar(
            sa.select(Item.id).where(Item.org_id == org_id, Item.parent_item_id == item.id)
            .limit(1))
        if has_variants is not None:
            field = "type" if "type" in changed else "parent_item_id"
            errors[field].append("the item has variants, so it stays a product of its own")
    if errors.keys() == pack_errors.keys() and domain.pack_needs_density(values):
        raise _pack_density_required(values, pack_errors, item)
    if errors:
        raise ValidationFailed(details={"fields": dict(errors)})


def _pack_density_required(values: dict[str, Any], errors: dict[str, list[str]],
                           item: Item | None) -> DensityRequired:
    """A pack by volume of an item kept by weight (or the other way round) and no density: the
    error unit conversion raises, with its fix, naming the fields too."""
    name = values["name"]
    if item is not None:
        hint = density_fix_hint(ItemUnits(item_id=str(item.id), name=name))
    else:  # nothing to PATCH yet: the fix is to send the density with the item
        hint = {"item_id": None, "item_name": name, "fix": {
            "action": "set_density", "field": "density_g_per_ml", "method": "POST",
            "path": "/api/v1/inventory/items",
            "message": f"Send the density (g/mL) of {name} with the item"}}
    return DensityRequired(
        f"A pack in {values['purchase_unit']} converts to {values['default_unit']} only "
        "through the item's density", details={**hint, "fields": errors})


async def _parent_problem(uow: UnitOfWork, org_id: uuid.UUID, parent_id: uuid.UUID,
                          item: Item | None) -> str | None:
    if item is not None and parent_id == item.id:
        return "an item cannot be a variant of itself"
    parent = await uow.session.scalar(
        sa.select(Item).where(Item.org_id == org_id, Item.id == parent_id))
    if parent is None:
        return "names no item of this organization"
    if parent.type != "product":
        return "must name a product"
    if parent.parent_item_id is not None:
        return "names a variant; a variant's parent must be a product of its own"
    return None


async def _ensure_unique(uow: UnitOfWork, org_id: uuid.UUID, values: dict[str, Any],
                         except_id: uuid.UUID | None = None) -> None:
    for field, error in (("name", _name_taken), ("sku", _sku_taken)):
        if values.get(field) is None:
            continue
        query = sa.select(Item.id).where(Item.org_id == org_id,
                                         getattr(Item, field) == values[field])
        if except_id is not None:
            query = query.where(Item.id != except_id)
        if await uow.session.scalar(query) is not None:
            raise error(values[field])


def _name_taken(name: str) -> ItemNameTaken:
    return ItemNameTaken(f"An item named {name!r} already exists",
                         details={"fields": {"name": ["is already taken by another item"]}})


def _sku_taken(sku: str | None) -> SkuTaken:
    return SkuTaken(f"Another item already has the SKU {sku!r}",
                    details={"fields": {"sku": ["is already used by another item"]}})


async def _ensure_unit_change_keeps_stock(uow: UnitOfWork, org_id: uuid.UUID, item: Item,
                                          merged: dict[str, Any]) -> None:
    """Lots hold quantities in the default unit: it may change only to one meaning the same."""
    if domain.same_quantities(item.default_unit, item.count_unit,
                              merged["default_unit"], merged["count_unit"]):
        return
    has_lots = await uow.session.scalar(
        sa.select(Lot.id).where(Lot.org_id == org_id, Lot.item_id == item.id).limit(1))
    if has_lots is not None:
        raise DefaultUnitLocked(
            f"The item's lots hold quantities in {item.default_unit}; its default unit "
            f"cannot become {merged['default_unit']}",
            details={"fields": {"default_unit": [
                f"cannot change from {item.default_unit} while the item has lots"]}})


# --- stock by location -----------------------------------------------------------------------

async def item_stock(uow: UnitOfWork, org_id: uuid.UUID, item_id: uuid.UUID) -> ItemStock:
    """The item's stock at each of the org's locations, and in total."""
    return await stock_by_location(uow.session, await get_item(uow, org_id, item_id))
