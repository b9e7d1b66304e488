"""Use cases for what items and lots refer to: categories, suppliers and locations.

Names are unique in an organization; nothing still referenced can be deleted. Every
organization that has locations has exactly one default, where stock goes when nobody says.
Items' `ItemChanged` events carry their category's and supplier's names, so renaming one
publishes `ItemChanged` for each of its items with the rename.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from inventory.catalog.events import hold_names, publish_item_changes
from inventory.catalog.schemas import (
    CategoryCreate,
    CategoryUpdate,
    LocationCreate,
    LocationUpdate,
    SupplierCreate,
    SupplierUpdate,
)
from inventory.models import (
    Category,
    InventoryCount,
    Item,
    Location,
    Lot,
    Movement,
    PurchaseBill,
    Supplier,
)
from servicekit.db import UnitOfWork, unique_violated
from servicekit.errors import Conflict, NotFound, ValidationFailed

DEFAULT_LOCATION_NAME = "Workshop"

Named = TypeVar("Named", Category, Supplier, Location)


class CategoryNotFound(NotFound):
    default_message = "Category not found"


class SupplierNotFound(NotFound):
    default_message = "Supplier not found"


class LocationNotFound(NotFound):
    default_message = "Location not found"


class NameTaken(Conflict):
    default_message = "The name is already taken"


class StillReferenced(Conflict):
    default_message = "It is still referenced, so it was not deleted"


class DefaultLocationRequired(Conflict):
    default_message = "The organization's default location cannot go while others remain"


_NOT_FOUND: dict[type[Any], type[NotFound]] = {
    Category: CategoryNotFound, Supplier: SupplierNotFound, Location: LocationNotFound,
}
_NOUN = {Category: "category", Supplier: "supplier", Location: "location"}
# The item column naming each kind of row whose name items' events carry.
_NAMED_BY_ITEMS: dict[type[Any], sa.ColumnElement[Any]] = {
    Category: Item.category_id, Supplier: Item.supplier_id,
}


# --- shared mechanics --------------------------------------------------------------------

async def _get(uow: UnitOfWork, model: type[Named], org_id: uuid.UUID,
               row_id: uuid.UUID) -> Named:
    row = await uow.session.scalar(
        sa.select(model).where(model.org_id == org_id, model.id == row_id))
    if row is None:
        raise _NOT_FOUND[model](details={f"{_NOUN[model]}_id": str(row_id)})
    return row


def _name_taken(model: type[Any], name: str) -> NameTaken:
    noun = _NOUN[model]
    return NameTaken(f"A {noun} named {name!r} already exists",
                     details={"fields": {"name": [f"is already taken by another {noun}"]}})


async def _ensure_name_free(uow: UnitOfWork, model: type[Any], org_id: uuid.UUID, name: str,
                            except_id: uuid.UUID | None = None) -> None:
    query = sa.select(model.id).where(model.org_id == org_id, model.name == name)
    if except_id is not None:
        query = query.where(model.id != except_id)
    if await uow.session.scalar(query) is not None:
        raise _name_taken(model, name)


async def _save(uow: UnitOfWork, row: Any) -> None:
    """Flush and commit, turning a name taken meanwhile by another request into a 409."""
    await _flush(uow, row)
    await uow.commit()


async def _flush(uow: UnitOfWork, row: Any) -> None:
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        if unique_violated(exc, row.__tablename__, "name"):
            raise _name_taken(type(row), row.name) from exc
        raise


async def _create(uow: UnitOfWork, model: type[Named], org_id: uuid.UUID,
                  data: BaseModel) -> Named:
    values = data.model_dump()
    await _ensure_name_free(uow, model, org_id, values["name"])
    row = model(org_id=org_id, **values)
    uow.session.add(row)
    await _save(uow, row)
    return row


async def _update(uow: UnitOfWork, model: type[Named], org_id: uuid.UUID, row_id: uuid.UUID,
                  data: BaseModel) -> Named:
    row = await _get(uow, model, org_id, row_id)
    changes = data.model_dump(exclude_unset=True)
    renamed = changes.get("name") not in (None, row.name)
    if renamed:
        await _ensure_name_free(uow, model, org_id, changes["name"], except_id=row.id)
    items_column = _NAMED_BY_ITEMS.get(model) if renamed else None
    if items_column is not None:
        await hold_names(uow, org_id, renaming=True)
    for field, value in changes.items():
        setattr(row, field, value)
    await _flush(uow, row)
    if items_column is not None:
        await publish_item_changes(uow, org_id, items_column == row.id)
    await uow.commit()
    return row


async def _delete(uow: UnitOfWork, row: Any, references: dict[str, sa.Select[Any]]) -> None:
    counts = {name: int(await uow.session.scalar(query) or 0)
              for name, query in references.items()}
    referenced_by = {name: count for name, count in counts.items() if count}
    if referenced_by:
        raise _still_referenced(row, referenced_by)
    await uow.session.delete(row)
    try:
        await uow.session.flush()
    except IntegrityError as exc:  # referenced by a row written since we counted
        raise _still_referenced(row, {}) from exc
    await uow.commit()


def _still_referenced(row: Any, referenced_by: dict[str, int]) -> StillReferenced:
    noun = _NOUN[type(row)]
    what = ", ".join(f"{count} {name.replace('_', ' ').removesuffix('s' if count == 1 else '')}"
                     for name, count in referenced_by.items())
    message = f"The {noun} is still used by {what}" if what else StillReferenced.default_message
    return StillReferenced(message, details={f"{noun}_id": str(row.id),
                                             "referenced_by": referenced_by})


def _count(model: type[Any], *where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return sa.select(sa.func.count()).select_from(model).where(*where)


def ordered_by_name(model: type[Any], org_id: uuid.UUID) -> sa.Select[Any]:
    """An org's rows of `model`, by name: the list query the routes paginate."""
    return sa.select(model).where(model.org_id == org_id).order_by(model.name, model.id)


# --- categories --------------------------------------------------------------------------

async def create_category(uow: UnitOfWork, org_id: uuid.UUID, data: CategoryCreate) -> Category:
    return await _create(uow, Category, org_id, data)


async def get_category(uow: UnitOfWork, org_id: uuid.UUID, category_id: uuid.UUID) -> Category:
    return await _get(uow, Category, org_id, category_id)


async def update_category(uow: UnitOfWork, org_id: uuid.UUID, category_id: uuid.UUID,
                          data: CategoryUpdate) -> Category:
    return await _update(uow, Category, org_id, category_id, data)


async def delete_category(uow: UnitOfWork, org_id: uuid.UUID, category_id: uuid.UUID) -> None:
    category = await _get(uow, Category, org_id, category_id)
    await _delete(uow, category, {
        "items": _count(Item, Item.org_id == org_id, Item.category_id == category.id),
    })


# --- suppliers ---------------------------------------------------------------------------

async def create_supplier(uow: UnitOfWork, org_id: uuid.UUID, data: SupplierCreate) -> Supplier:
    return await _create(uow, Supplier, org_id, data)


async def get_supplier(uow: UnitOfWork, org_id: uuid.UUID, supplier_id: uuid.UUID) -> Supplier:
    return await _get(uow, Supplier, org_id, supplier_id)


async def update_supplier(uow: UnitOfWork, org_id: uuid.UUID, supplier_id: uuid.UUID,
                          data: SupplierUpdate) -> Supplier:
    return await _update(uow, Supplier, org_id, supplier_id, data)


async def delete_supplier(uow: UnitOfWork, org_id: uuid.UUID, supplier_id: uuid.UUID) -> None:
    supplier = await _get(uow, Supplier, org_id, supplier_id)
    await _delete(uow, supplier, {
        "items": _count(Item, Item.org_id == org_id, Item.supplier_id == supplier.id),
        "lots": _count(Lot, Lot.org_id == org_id, Lot.supplier_id == supplier.id),
        "purchase_bills": _count(PurchaseBill, PurchaseBill.org_id == org_id,
                                 PurchaseBill.supplier_id == supplier.id),
    })


# --- locations ---------------------------------------------------------------------------

async def _lock_default(uow: UnitOfWork, org_id: uuid.UUID) -> None:
    """Serialize the choice of an org's default location until this transaction ends.

    There may be no row to lock yet (the first location), so PostgreSQL takes an advisory
    lock on the org; SQLite already serializes writers from BEGIN.
    """
    if uow.db.is_sqlite:
        return
    key = sa.func.hashtextextended(f"inventory.location.default:{org_id}", 0)
    await uow.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


async def _current_default(uow: UnitOfWork, org_id: uuid.UUID) -> Location | None:
    return await uow.session.scalar(
        sa.select(Location).where(Location.org_id == org_id, Location.is_default.is_(True))
        .order_by(Location.created_at, Location.id).limit(1))


async def default_location(uow: UnitOfWork, org_id: uuid.UUID) -> Location:
    """The org's default location, made on first use (a "Workshop") if it has none.

    For use cases that put stock somewhere unnamed. Flushes but never commits: the caller's
    unit of work does, together with whatever it puts there.
    """
    location = await _current_default(uow, org_id)
    if location is not None:
        return location
    await _lock_default(uow, org_id)
    location = await _current_default(uow, org_id)  # another transaction may have made one
    if location is not None:
        return location
    location = await uow.session.scalar(
        sa.select(Location).where(Location.org_id == org_id)
        .order_by(Location.created_at, Location.id).limit(1))
    if location is None:
        location = Location(org_id=org_id, name=DEFAULT_LOCATION_NAME, kind="workshop")
        uow.session.add(location)
    location.is_default = True
    await uow.session.flush()
    return location


async def create_location(uow: UnitOfWork, org_id: uuid.UUID, data: LocationCreate) -> Location:
    await _ensure_name_free(uow, Location, org_id, data.name)
    await _lock_default(uow, org_id)
    current = await _current_default(uow, org_id)
    location = Location(org_id=org_id, name=data.name, kind=data.kind,
                        is_default=data.is_default or current is None)
    if location.is_default and current is not None:
        current.is_default = False
    uow.session.add(location)
    await _save(uow, location)
    return location


async def get_location(uow: UnitOfWork, org_id: uuid.UUID, location_id: uuid.UUID) -> Location:
    return await _get(uow, Location, org_id, location_id)


async def update_location(uow: UnitOfWork, org_id: uuid.UUID, location_id: uuid.UUID,
                          data: LocationUpdate) -> Location:
    location = await _get(uow, Location, org_id, location_id)
    changes = data.model_dump(exclude_unset=True)
    make_default = changes.pop("is_default", None)
    if make_default is False and location.is_default:
        raise ValidationFailed(details={"fields": {"is_default": [
            "an organization always has a default location; make another one the default"]}})
    if make_default and not location.is_default:
        await _lock_default(uow, org_id)
        current = await _current_default(uow, org_id)
        if current is not None:
            current.is_default = False
            await uow.session.flush()  # one default at a time, even within this flush
        location.is_default = True
    return await _update(uow, Location, org_id, location_id,
                         LocationUpdate.model_validate(changes))


async def delete_location(uow: UnitOfWork, org_id: uuid.UUID, location_id: uuid.UUID) -> None:
    location = await _get(uow, Location, org_id, location_id)
    if location.is_default:
        others = await uow.session.scalar(
            _count(Location, Location.org_id == org_id, Location.id != location.id))
        if others:
            raise DefaultLocationRequired(
                "Make another location the default before deleting this one",
                details={"location_id": str(location.id)})
    await _delete(uow, location, {
        "lots": _count(Lot, Lot.org_id == org_id, Lot.location_id == location.id),
        "movements": _count(Movement, Movement.org_id == org_id,
                            Movement.location_id == location.id),
        "inventory_counts": _count(InventoryCount, InventoryCount.org_id == org_id,
                                   InventoryCount.location_id == location.id),
    })
