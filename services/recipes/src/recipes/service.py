"""Recipes use cases."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from recipes.models import ItemView
from servicekit.db import UnitOfWork
from servicekit.errors import NotFound


class ItemNotFound(NotFound):
    default_message = "Item not found"


async def get_item_view(uow: UnitOfWork, org_id: uuid.UUID, item_id: uuid.UUID) -> ItemView:
    item = await uow.session.scalar(
        sa.select(ItemView).where(ItemView.org_id == org_id, ItemView.item_id == item_id)
    )
    if item is None:
        raise ItemNotFound(details={"item_id": str(item_id)})
    return item
