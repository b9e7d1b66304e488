from __future__ import annotations

import uuid

import sqlalchemy as sa
from fastapi import APIRouter, status

from inventory.catalog import service
from inventory.catalog.schemas import ItemCreate, ItemRead
from inventory.models import Item
from servicekit.dependencies import CallerDep, UnitOfWorkDep
from servicekit.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/api/v1/inventory", tags=["inventory"])


@router.post("/items", status_code=status.HTTP_201_CREATED, response_model=ItemRead)
async def create_item(body: ItemCreate, caller: CallerDep, uow: UnitOfWorkDep) -> Item:
    return await service.create_item(uow, caller.org_id, body)


@router.get("/items")
async def list_items(caller: CallerDep, uow: UnitOfWorkDep, page: PageDep) -> Page[ItemRead]:
    query = sa.select(Item).where(Item.org_id == caller.org_id).order_by(Item.name, Item.id)
    return await paginate(uow.session, query, page, transform=ItemRead.model_validate)


@router.get("/items/{item_id}", response_model=ItemRead)
async def get_item(item_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> Item:
    return await service.get_item(uow, caller.org_id, item_id)
