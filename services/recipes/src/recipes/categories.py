"""Recipe categories (seed 001's `/recipe-categories`): CRUD, names unique per organization,
deletion refused while recipes use them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query, Response, status
from sqlalchemy.exc import IntegrityError

from recipes.models import Recipe, RecipeCategory
from recipes.schemas import CategoryPatch, CategoryRead, CategoryWrite
from servicekit.db import UnitOfWork, unique_violated
from servicekit.dependencies import CallerDep, UnitOfWorkDep
from servicekit.errors import Conflict, NotFound
from servicekit.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/api/v1/recipe-categories", tags=["recipe categories"])


class CategoryNotFound(NotFound):
    default_message = "Recipe category not found"


async def names(uow: UnitOfWork, org_id: uuid.UUID,
                category_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {category_id for category_id in category_ids if category_id is not None}
    if not wanted:
        return {}
    rows = await uow.session.execute(sa.select(RecipeCategory.id, RecipeCategory.name).where(
        RecipeCategory.org_id == org_id, RecipeCategory.id.in_(wanted)))
    return {row.id: row.name for row in rows}


@router.get("")
async def list_categories(
    caller: CallerDep, uow: UnitOfWorkDep, page: PageDep,
    search: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[CategoryRead]:
    query = sa.select(RecipeCategory).where(RecipeCategory.org_id == caller.org_id)
    if search:
        query = query.where(RecipeCategory.name.icontains(search, autoescape=True))
    query = query.order_by(RecipeCategory.name, RecipeCategory.id)
    return await paginate(uow.session, query, page, transform=CategoryRead.model_validate)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CategoryRead)
async def create_category(body: CategoryWrite, caller: CallerDep,
                          uow: UnitOfWorkDep) -> RecipeCategory:
    category = RecipeCategory(org_id=caller.org_id, **body.model_dump())
    uow.session.add(category)
    return await _save(uow, category)


@router.get("/{category_id}", response_model=CategoryRead)
async def get_category(category_id: uuid.UUID, caller: CallerDep,
                       uow: UnitOfWorkDep) -> RecipeCategory:
    return await _get(uow, caller.org_id, category_id)


@router.patch("/{category_id}", response_model=CategoryRead)
async def update_category(category_id: uuid.UUID, body: CategoryPatch, caller: CallerDep,
                          uow: UnitOfWorkDep) -> RecipeCategory:
    category = await _get(uow, caller.org_id, category_id)
    for field, value in body.model_dump(exclude_unset=True).items():
        if field == "name" and value is None:
            continue
        setattr(category, field, value)
    return await _save(uow, category)


@router.delete("/{category_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_category(category_id: uuid.UUID, caller: CallerDep,
                          uow: UnitOfWorkDep) -> Response:
    category = await _get(uow, caller.org_id, category_id)
    used = await uow.session.scalar(sa.select(sa.func.count()).where(
        Recipe.org_id == caller.org_id, Recipe.category_id == category_id))
    if used:
        raise Conflict(f"{used} recipe(s) are in this category; move them first",
                       details={"recipes": used})
    await uow.session.delete(category)
    await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _get(uow: UnitOfWork, org_id: uuid.UUID, category_id: uuid.UUID) -> RecipeCategory:
    category = await uow.session.scalar(sa.select(RecipeCategory).where(
        RecipeCategory.org_id == org_id, RecipeCategory.id == category_id))
    if category is None:
        raise CategoryNotFound(details={"category_id": str(category_id)})
    return category


async def _save(uow: UnitOfWork, category: RecipeCategory) -> RecipeCategory:
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        if unique_violated(exc, "recipe_category", "name"):
            raise Conflict(f"A recipe category named {category.name!r} exists",
                           details={"fields": {"name": ["already taken"]}}) from exc
        raise
    await uow.commit()
    return category
