"""Recipe routes: recipes with their cost breakdown, scaling, versions and label prefixes;
recipe categories; the read model of items. Every one acts in the caller's organization."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query, status

from recipes import categories, service
from recipes.book import load_book
from recipes.costing import Coster, multiplier_for
from recipes.editing import archive_recipe, create_recipe, get_recipe, update_recipe
from recipes.inventory import InventoryDep
from recipes.labels import unique_prefix
from recipes.models import ItemView, Recipe, RecipeVersion
from recipes.schemas import (
    ItemViewRead,
    PrefixRead,
    RecipeFields,
    RecipeRead,
    RecipeSummary,
    RecipeWrite,
    VersionRead,
)
from recipes.views import recipe_read, recipe_summary
from servicekit.db import UnitOfWork
from servicekit.decimals import PositiveQuantity
from servicekit.dependencies import CallerDep, UnitOfWorkDep
from servicekit.errors import NotFound, ValidationFailed
from servicekit.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/api/v1", tags=["recipes"])

Search = Annotated[str | None, Query(max_length=200, description="Part of the name, any case")]


# --- recipes -----------------------------------------------------------------------------------

@router.get("/recipes")
async def list_recipes(
    caller: CallerDep, uow: UnitOfWorkDep, page: PageDep, search: Search = None,
    category_id: uuid.UUID | None = None,
    batch_type: Annotated[str | None, Query(pattern="^(product|ingredient)$")] = None,
    archived: Annotated[bool, Query(description="List archived recipes instead")] = False,
) -> Page[RecipeSummary]:
    """Recipes with their cost at their own yield, by name."""
    query = sa.select(Recipe).where(Recipe.org_id == caller.org_id,
                                    Recipe.archived.is_(archived))
    if search:
        query = query.where(Recipe.name.icontains(search, autoescape=True))
    if category_id is not None:
        query = query.where(Recipe.category_id == category_id)
    if batch_type is not None:
        query = query.where(Recipe.batch_type == batch_type)
    listed = await paginate(uow.session, query.order_by(Recipe.name, Recipe.id), page)
    rows: Sequence[Recipe] = listed.items  # type: ignore[assignment]
    coster = Coster(await load_book(uow.session, caller.org_id, (r.id for r in rows)))
    names = await categories.names(uow, caller.org_id, (r.category_id for r in rows))
    return Page[RecipeSummary].build(
        [recipe_summary(r, coster.cost(r.id), names) for r in rows], listed.total, page)


@router.post("/recipes", status_code=status.HTTP_201_CREATED, response_model=RecipeRead)
async def post_recipe(body: RecipeWrite, caller: CallerDep, uow: UnitOfWorkDep,
                      inventory: InventoryDep) -> RecipeRead:
    recipe = await create_recipe(uow, caller, body, inventory)
    return await _read(uow, recipe)


@router.get("/recipes/prefix", response_model=PrefixRead)
async def get_prefix(caller: CallerDep, uow: UnitOfWorkDep,
                     name: Annotated[str, Query(min_length=1, max_length=200)]) -> PrefixRead:
    """A label prefix for a recipe of this name, unique in the organization ("Milk and
    Honey" -> "MAH", or "MAH2" when MAH is taken)."""
    return PrefixRead(prefix=await unique_prefix(uow, caller.org_id, name))


@router.get("/recipes/{recipe_id}", response_model=RecipeRead)
async def get_recipe_costed(recipe_id: uuid.UUID, caller: CallerDep,
                            uow: UnitOfWorkDep) -> RecipeRead:
    """The recipe with seed 001's cost breakdown: each line's cost (sub-recipes costed through
    every level), totals per role, per yield unit and per portion, food cost %, allergens and
    nutrition rolled up through sub-recipes, and what keeps the costing incomplete."""
    return await _read(uow, await get_recipe(uow, caller.org_id, recipe_id))


@router.get("/recipes/{recipe_id}/scale", response_model=RecipeRead)
async def scale_recipe(
    recipe_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep,
    portions: Annotated[PositiveQuantity | None, Query(
        description="Target portions (or yield units when not portioned)")] = None,
    multiplier: Annotated[PositiveQuantity | None, Query(description="Scale factor")] = None,
) -> RecipeRead:
    """The recipe scaled to `portions` or by `multiplier` (neither: as written): quantities,
    costs and yield."""
    recipe = await get_recipe(uow, caller.org_id, recipe_id)
    if portions is not None and multiplier is not None:
        raise ValidationFailed("Give portions or multiplier, not both", details={
            "fields": {"portions": ["give portions or multiplier, not both"]}})
    return await _read(uow, recipe, portions=portions, multiplier=multiplier)


@router.put("/recipes/{recipe_id}", response_model=RecipeRead)
async def put_recipe(recipe_id: uuid.UUID, body: RecipeWrite, caller: CallerDep,
                     uow: UnitOfWorkDep, inventory: InventoryDep) -> RecipeRead:
    """Replace the whole recipe (a new version)."""
    recipe = await update_recipe(uow, caller, recipe_id, body, inventory, replace_all=True)
    return await _read(uow, recipe)


@router.patch("/recipes/{recipe_id}", response_model=RecipeRead)
async def patch_recipe(recipe_id: uuid.UUID, body: RecipeFields, caller: CallerDep,
                       uow: UnitOfWorkDep, inventory: InventoryDep) -> RecipeRead:
    """Change the fields given (a new version); `items` or `containers`, when given, replace
    that list whole."""
    recipe = await update_recipe(uow, caller, recipe_id, body, inventory, replace_all=False)
    return await _read(uow, recipe)


@router.delete("/recipes/{recipe_id}", response_model=RecipeRead)
async def delete_recipe(recipe_id: uuid.UUID, caller: CallerDep,
                        uow: UnitOfWorkDep) -> RecipeRead:
    """Archive the recipe (its versions stay for the batches that followed them); refused
    with 409 while active recipes use it as a sub-recipe."""
    return await _read(uow, await archive_recipe(uow, caller, recipe_id))


@router.get("/recipes/{recipe_id}/versions")
async def list_versions(recipe_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep,
                        page: PageDep) -> Page[VersionRead]:
    """Every version of the recipe, newest first, each with its whole definition."""
    await get_recipe(uow, caller.org_id, recipe_id)
    query = (sa.select(RecipeVersion)
             .where(RecipeVersion.org_id == caller.org_id, RecipeVersion.recipe_id == recipe_id)
             .order_by(RecipeVersion.version.desc()))
    return await paginate(uow.session, query, page, transform=VersionRead.model_validate)


@router.get("/recipes/{recipe_id}/versions/{version}", response_model=VersionRead)
async def get_version(recipe_id: uuid.UUID, version: int, caller: CallerDep,
                      uow: UnitOfWorkDep) -> RecipeVersion:
    found = await uow.session.scalar(sa.select(RecipeVersion).where(
        RecipeVersion.org_id == caller.org_id, RecipeVersion.recipe_id == recipe_id,
        RecipeVersion.version == version))
    if found is None:
        raise NotFound("Recipe version not found",
                       details={"recipe_id": str(recipe_id), "version": version})
    return found


async def _read(uow: UnitOfWork, recipe: Recipe, *, portions: Decimal | None = None,
                multiplier: Decimal | None = None) -> RecipeRead:
    book = await load_book(uow.session, recipe.org_id, [recipe.id])
    factor = multiplier_for(book.recipes[recipe.id], portions=portions, multiplier=multiplier)
    costing = Coster(book).cost(recipe.id, factor)
    names = await categories.names(uow, recipe.org_id, [recipe.category_id])
    return recipe_read(recipe, costing, names, book)


# --- the item read model -----------------------------------------------------------------------

@router.get("/recipe-items")
async def list_recipe_items(caller: CallerDep, uow: UnitOfWorkDep, page: PageDep,
                            search: Search = None) -> Page[ItemViewRead]:
    """Inventory's items as recipes knows them (kept current from inventory's events)."""
    query = sa.select(ItemView).where(ItemView.org_id == caller.org_id)
    if search:
        query = query.where(ItemView.name.icontains(search, autoescape=True))
    query = query.order_by(ItemView.name, ItemView.item_id)
    return await paginate(uow.session, query, page, transform=ItemViewRead.model_validate)


@router.get("/recipe-items/{item_id}", response_model=ItemViewRead)
async def get_recipe_item(item_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> ItemView:
    return await service.get_item_view(uow, caller.org_id, item_id)
