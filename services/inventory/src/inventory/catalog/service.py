"""Inventory use cases: each owns its transaction and writes its events to the outbox."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from contracts import ItemChanged
from inventory.catalog.schemas import ItemCreate
from inventory.models import Item
from servicekit.db import UnitOfWork
from servicekit.errors import Conflict, NotFound


class ItemNotFound(NotFound):
    default_message = "Item not found"


class ItemNameTaken(Conflict):
    default_message = "An item with this name already exists"


def item_changed(item: Item) -> ItemChanged:
    return ItemChanged(item_id=item.id, name=item.name, type=item.type,
                       default_unit=item.default_unit)


async def create_item(uow: UnitOfWork, org_id: uuid.UUID, data: ItemCreate) -> Item:
    taken = await uow.session.scalar(
        sa.select(Item.id).where(Item.org_id == org_id, Item.name == data.name)
    )
    if taken is not None:
        raise ItemNameTaken(details={"field": "name", "value": data.name})
    item = Item(org_id=org_id, **data.model_dump())
    uow.session.add(item)
    await uow.session.flush()
    uow.publish(item_changed(item), org_id=org_id, subject=str(item.id))
    await uow.commit()
    return item


async def get_item(uow: UnitOfWork, org_id: uuid.UUID, item_id: uuid.UUID) -> Item:
    item = await uow.session.scalar(
        sa.select(Item).where(Item.org_id == org_id, Item.id == item_id)
    )
    if item is None:
        raise ItemNotFound(details={"item_id": str(item_id)})
    return item
