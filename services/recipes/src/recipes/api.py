from __future__ import annotations

import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query

from recipes import service
from recipes.models import ItemView
from recipes.schemas import ItemViewRead
from servicekit.dependencies import CallerDep, UnitOfWorkDep
from servicekit.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/api/v1", tags=["recipes"])


@router.get("/recipe-items")
async def list_recipe_items(
    caller: CallerDep, uow: UnitOfWorkDep, page: PageDep,
    search: Annotated[str | None, Query(max_length=200,
                                        description="Part of the name, any case")] = None,
) -> Page[ItemViewRead]:
    query = sa.select(ItemView).where(ItemView.org_id == caller.org_id)
    if search:
        query = query.where(ItemView.name.icontains(search, autoescape=True))
    query = query.order_by(ItemView.name, ItemView.item_id)
    return await paginate(uow.session, query, page, transform=ItemViewRead.model_validate)


@router.get("/recipe-items/{item_id}", response_model=ItemViewRead)
async def get_recipe_item(item_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> ItemView:
    return await service.get_item_view(uow, caller.org_id, item_id)
