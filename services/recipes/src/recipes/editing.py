"""Writing recipes: create, replace, patch, archive. Every change is a new version.

A recipe's lines are checked before anything is stored: items must exist (in the read model,
or, while their `ItemChanged` is still on its way, in inventory itself), units must make sense
for what they measure, sub-recipes must be this organization's and must not lead back to the
recipe. A version keeps the recipe's whole definition, so a plan made from it can always be
shown as it was.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from contracts import RecipeChanged
from recipes.book import ItemFacts, load_book
from recipes.costing import RecipeCycle
from recipes.inventory import InventoryClient
from recipes.labels import unique_prefix
from recipes.models import ItemView, Recipe, RecipeCategory, RecipeLine, RecipeVersion
from recipes.schemas import LineWrite, RecipeFields, RecipeWrite
from servicekit import units
from servicekit.db import UnitOfWork, unique_violated
from servicekit.errors import Conflict, DomainError, NotFound, ValidationFailed
from servicekit.identity import Caller
from servicekit.units import DensityRequired

CONSUMED_TYPES = {"consumable", "packaging", "container"}


class RecipeNotFound(NotFound):
    default_message = "Recipe not found"


class UnknownReference(ValidationFailed):
    code = "UNKNOWN_REFERENCE"
    default_message = "The recipe names something that does not exist"


class UnitNotUsable(ValidationFailed):
    code = "INCOMPATIBLE_UNITS"
    default_message = "A line's unit cannot measure what it names"


class RecipeInUse(Conflict):
    default_message = "Other recipes use this recipe as a sub-recipe"


async def get_recipe(uow: UnitOfWork, org_id: uuid.UUID, recipe_id: uuid.UUID, *,
                     for_update: bool = False) -> Recipe:
    query = sa.select(Recipe).where(Recipe.org_id == org_id, Recipe.id == recipe_id)
    if for_update:
        query = query.with_for_update()
    recipe = await uow.session.scalar(query)
    if recipe is None:
        raise RecipeNotFound(details={"recipe_id": str(recipe_id)})
    return recipe


# --- writing -----------------------------------------------------------------------------------

RECIPE_FIELDS = ("name", "description", "category_id", "yield_density_g_per_ml",
                 "prep_time_min", "cook_time_min", "instructions", "selling_price",
                 "target_cost_pct", "batch_type", "output_item_id")


async def create_recipe(uow: UnitOfWork, caller: Caller, body: RecipeWrite,
                        inventory: InventoryClient) -> Recipe:
    org_id = caller.org_id
    recipe = Recipe(id=uuid.uuid4(), org_id=org_id, version=1, created_by=caller.user_id,
                    batch_type="product", is_portioned=False, archived=False)
    recipe.label_prefix = (body.label_prefix.upper() if body.label_prefix
                           else await unique_prefix(uow, org_id, body.name))
    uow.session.add(recipe)
    with uow.session.no_autoflush:
        await _apply(uow, recipe, body, inventory, replace_all=True)
    return await _save(uow, caller, recipe, "created")


async def update_recipe(uow: UnitOfWork, caller: Caller, recipe_id: uuid.UUID,
                        body: RecipeFields, inventory: InventoryClient, *,
                        replace_all: bool) -> Recipe:
    recipe = await get_recipe(uow, caller.org_id, recipe_id, for_update=True)
    if body.label_prefix:
        recipe.label_prefix = body.label_prefix.upper()
    with uow.session.no_autoflush:
        await _apply(uow, recipe, body, inventory, replace_all=replace_all)
    recipe.version += 1
    return await _save(uow, caller, recipe, "updated")


async def archive_recipe(uow: UnitOfWork, caller: Caller, recipe_id: uuid.UUID) -> Recipe:
    """Hide the recipe from lists and new use; refused while active recipes use it."""
    recipe = await get_recipe(uow, caller.org_id, recipe_id, for_update=True)
    if recipe.archived:
        return recipe
    users = (await uow.session.scalars(
        sa.select(Recipe.name).distinct().join(RecipeLine, RecipeLine.recipe_id == Recipe.id)
        .where(RecipeLine.org_id == caller.org_id, RecipeLine.sub_recipe_id == recipe_id,
               Recipe.archived.is_(False)).order_by(Recipe.name))).all()
    if users:
        raise RecipeInUse(f"{recipe.name} is a sub-recipe of {', '.join(users)}",
                          details={"used_by": list(users)})
    recipe.archived = True
    recipe.version += 1
    return await _save(uow, caller, recipe, "archived")


async def _apply(uow: UnitOfWork, recipe: Recipe, body: RecipeFields,
                 inventory: InventoryClient, *, replace_all: bool) -> None:
    given = body.model_fields_set if not replace_all else set(RecipeWrite.model_fields)
    for name in RECIPE_FIELDS:
        if name in given:
            value = getattr(body, name)
            setattr(recipe, name, value if value is not None or name != "batch_type"
                    else "product")
    if "yield_qty" in given and body.yield_qty is not None:
        recipe.yield_quantity = body.yield_qty
    if "yield_unit" in given and body.yield_unit is not None:
        recipe.yield_unit = body.yield_unit
    if "portioning" in given:
        portioning = body.portioning
        recipe.is_portioned = bool(portioning and portioning.is_portioned)
        recipe.portion_name = portioning.portion_name if recipe.is_portioned else None  # type: ignore[union-attr]
        recipe.portion_count = portioning.portion_count if recipe.is_portioned else None  # type: ignore[union-attr]
    if recipe.yield_quantity is None or recipe.yield_unit is None:
        raise ValidationFailed("A recipe needs yield_qty and yield_unit",
                               details={"fields": {"yield_qty": ["required"]}})
    _check_yield_unit(recipe.yield_unit)
    if recipe.category_id is not None and "category_id" in given:
        await _check_category(uow, recipe.org_id, recipe.category_id)
    if recipe.output_item_id is not None and "output_item_id" in given:
        await _known_items(uow, recipe.org_id, [recipe.output_item_id], inventory,
                           field="output_item_id")
    await _ensure_free(uow, recipe)
    if "items" in given or "containers" in given:
        containers = body.containers if "containers" in given else None
        await _replace_lines(uow, recipe, body.items, containers, inventory)


async def _ensure_free(uow: UnitOfWork, recipe: Recipe) -> None:
    """Refuse a name or label prefix another of the organization's recipes has."""
    others = sa.select(Recipe).where(Recipe.org_id == recipe.org_id, Recipe.id != recipe.id)
    if await uow.session.scalar(others.where(Recipe.name == recipe.name)) is not None:
        raise Conflict(f"A recipe named {recipe.name!r} exists",
                       details={"fields": {"name": ["already taken"]}})
    if await uow.session.scalar(
            others.where(Recipe.label_prefix == recipe.label_prefix)) is not None:
        raise Conflict(f"Label prefix {recipe.label_prefix!r} is taken", details={
            "fields": {"label_prefix": ["already taken"]},
            "suggestion": await unique_prefix(uow, recipe.org_id, recipe.name)})


def _check_yield_unit(symbol: str) -> None:
    # Any standard unit, or a name of the maker's own ("bars", "loaves"), counted.
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9 _-]{0,31}", symbol):
        raise ValidationFailed(f"yield_unit {symbol!r} is not a unit name",
                               details={"fields": {"yield_unit": ["not a unit name"]}})


async def _check_category(uow: UnitOfWork, org_id: uuid.UUID, category_id: uuid.UUID) -> None:
    found = await uow.session.scalar(sa.select(RecipeCategory.id).where(
        RecipeCategory.org_id == org_id, RecipeCategory.id == category_id))
    if found is None:
        raise UnknownReference("No such recipe category",
                               details={"fields": {"category_id": ["no such recipe category"]}})


async def _lines(uow: UnitOfWork, recipe: Recipe) -> Sequence[RecipeLine]:
    return (await uow.session.scalars(sa.select(RecipeLine).where(
        RecipeLine.org_id == recipe.org_id, RecipeLine.recipe_id == recipe.id)
        .order_by(RecipeLine.position))).all()


async def _replace_lines(uow: UnitOfWork, recipe: Recipe, items: list[LineWrite] | None,
                         containers: list[Any] | None, inventory: InventoryClient) -> None:
    existing = list(await _lines(uow, recipe))
    kept_items = [line for line in existing if line.role != "container"] if items is None else []
    kept_containers = ([line for line in existing if line.role == "container"]
                       if containers is None else [])
    org_id = recipe.org_id
    item_ids = [line.item_id for line in items or () if line.item_id is not None]
    item_ids += [container.item_id for container in containers or ()]
    facts = await _known_items(uow, org_id, item_ids, inventory)
    new_lines: list[RecipeLine] = []
    for index, line in enumerate(items or ()):
        if line.item_id is not None:
            item = facts[line.item_id]
            _check_unit(item, line.quantity, line.unit, f"items.{index}.unit")
            role = line.role or ("consumable" if item.type in CONSUMED_TYPES else "ingredient")
        else:
            role = "ingredient"
        new_lines.append(RecipeLine(
            org_id=org_id, recipe_id=recipe.id, role=role, item_id=line.item_id,
            sub_recipe_id=line.sub_recipe_id, quantity=line.quantity, unit=line.unit,
            notes=line.notes, position=0))
    for index, container in enumerate(containers or ()):
        _check_unit(facts[container.item_id], container.quantity, "count",
                    f"containers.{index}.item_id")
        new_lines.append(RecipeLine(
            org_id=org_id, recipe_id=recipe.id, role="container", item_id=container.item_id,
            quantity=container.quantity, unit="count", position=0))
    await _check_sub_recipes(uow, recipe, items or ())
    for line in existing:
        if line not in kept_items and line not in kept_containers:
            await uow.session.delete(line)
    for position, line in enumerate([*kept_items, *new_lines, *kept_containers]):
        line.position = position
        if line not in existing:
            uow.session.add(line)


def _check_unit(item: ItemFacts, quantity: Decimal, unit: str, field: str) -> None:
    try:
        item.to_default_unit(quantity, unit)
    except DensityRequired:
        return  # usable once the item has a density; the costing says so meanwhile
    except DomainError as error:
        raise UnitNotUsable(f"{item.name}: {error.message}", details={
            "fields": {field: [error.message]}, "item_id": str(item.item_id),
            "default_unit": item.default_unit}) from None


async def _known_items(uow: UnitOfWork, org_id: uuid.UUID, item_ids: list[uuid.UUID],
                       inventory: InventoryClient, *,
                       field: str = "items") -> dict[uuid.UUID, ItemFacts]:
    wanted = set(item_ids)
    if not wanted:
        return {}
    views = await uow.session.scalars(sa.select(ItemView).where(
        ItemView.org_id == org_id, ItemView.item_id.in_(wanted)))
    facts = {view.item_id: ItemFacts.from_view(view) for view in views}
    for item_id in wanted - facts.keys():
        # Created a moment ago, its ItemChanged may not have arrived yet: inventory decides.
        found = await inventory.find_item(item_id)
        if found is None:
            raise UnknownReference(f"No such item {item_id}", details={
                "fields": {field: [f"no such item {item_id}"]}, "item_id": str(item_id)})
        facts[item_id] = found
    return facts


async def _check_sub_recipes(uow: UnitOfWork, recipe: Recipe,
                             items: Sequence[LineWrite]) -> None:
    sub_ids = {line.sub_recipe_id for line in items if line.sub_recipe_id is not None}
    if not sub_ids:
        return
    if recipe.id in sub_ids:
        raise RecipeCycle("A recipe cannot be its own sub-recipe",
                          details={"path": [str(recipe.id), str(recipe.id)]})
    book = await load_book(uow.session, recipe.org_id, sub_ids)
    for index, line in enumerate(items):
        sub = book.recipes.get(line.sub_recipe_id) if line.sub_recipe_id else None
        if line.sub_recipe_id is None:
            continue
        if sub is None:
            raise UnknownReference(f"No such recipe {line.sub_recipe_id}", details={
                "fields": {f"items.{index}.sub_recipe_id": ["no such recipe"]}})
        if sub.archived:
            raise UnknownReference(f"{sub.name} is archived", details={
                "fields": {f"items.{index}.sub_recipe_id": ["archived recipe"]}})
        try:
            units.convert(line.quantity, line.unit, sub.yield_unit, sub.yield_units)
        except DensityRequired:
            pass
        except DomainError as error:
            raise UnitNotUsable(f"{sub.name}: {error.message}", details={
                "fields": {f"items.{index}.unit": [error.message]},
                "yield_unit": sub.yield_unit}) from None
    path = _path_to(book, sub_ids, recipe.id)
    if path:
        names = [book.recipes[step].name if step in book.recipes else recipe.name
                 for step in path]
        raise RecipeCycle(f"{' -> '.join([recipe.name, *names])} leads back to {recipe.name}",
                          details={"path": [str(recipe.id), *map(str, path)]})


def _path_to(book: Any, starts: set[uuid.UUID], target: uuid.UUID) -> list[uuid.UUID] | None:
    """Sub-recipe steps from one of `starts` to `target`, if any."""
    parents: dict[uuid.UUID, uuid.UUID | None] = dict.fromkeys(starts)
    queue = list(starts)
    while queue:
        current = queue.pop(0)
        if current == target:
            path = [current]
            while parents[path[-1]] is not None:
                path.append(parents[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        recipe = book.recipes.get(current)
        for line in recipe.lines if recipe else ():
            if line.sub_recipe_id is not None and line.sub_recipe_id not in parents:
                parents[line.sub_recipe_id] = current
                queue.append(line.sub_recipe_id)
    return None


async def _save(uow: UnitOfWork, caller: Caller, recipe: Recipe, change: str) -> Recipe:
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        if unique_violated(exc, "recipe", "name"):
            raise Conflict(f"A recipe named {recipe.name!r} exists",
                           details={"fields": {"name": ["already taken"]}}) from exc
        if unique_violated(exc, "recipe", "label_prefix"):
            raise Conflict(f"Label prefix {recipe.label_prefix!r} is taken",
                           details={"fields": {"label_prefix": ["already taken"]}}) from exc
        raise
    lines = await _lines(uow, recipe)
    uow.session.add(RecipeVersion(
        org_id=recipe.org_id, recipe_id=recipe.id, version=recipe.version,
        definition=definition(recipe, lines), change=change, created_by=caller.user_id))
    uow.publish(RecipeChanged(
        recipe_id=recipe.id, version=recipe.version, name=recipe.name,
        label_prefix=recipe.label_prefix, yield_quantity=recipe.yield_quantity,
        yield_unit=recipe.yield_unit, archived=recipe.archived,
    ), org_id=recipe.org_id, subject=str(recipe.id))
    await uow.commit()
    return recipe


def definition(recipe: Recipe, lines: Sequence[RecipeLine]) -> dict[str, Any]:
    """The recipe as written, in JSON terms (decimals as strings, exactly)."""

    def text(value: Any) -> Any:
        return None if value is None else str(value)

    return {
        "name": recipe.name, "label_prefix": recipe.label_prefix,
        "description": recipe.description, "category_id": text(recipe.category_id),
        "yield_qty": text(recipe.yield_quantity), "yield_unit": recipe.yield_unit,
        "yield_density_g_per_ml": text(recipe.yield_density_g_per_ml),
        "portioning": {"is_portioned": recipe.is_portioned, "portion_name": recipe.portion_name,
                       "portion_count": text(recipe.portion_count)},
        "prep_time_min": recipe.prep_time_min, "cook_time_min": recipe.cook_time_min,
        "instructions": recipe.instructions, "selling_price": text(recipe.selling_price),
        "target_cost_pct": text(recipe.target_cost_pct), "batch_type": recipe.batch_type,
        "output_item_id": text(recipe.output_item_id), "archived": recipe.archived,
        "items": [{"id": str(line.id), "role": line.role, "item_id": text(line.item_id),
                   "sub_recipe_id": text(line.sub_recipe_id), "quantity": text(line.quantity),
                   "unit": line.unit, "notes": line.notes}
                  for line in lines if line.role != "container"],
        "containers": [{"id": str(line.id), "item_id": text(line.item_id),
                        "quantity": text(line.quantity)}
                       for line in lines if line.role == "container"],
    }
