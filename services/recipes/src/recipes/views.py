"""A recipe and its costing as responses show them (seed 001's shapes)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from recipes.book import Book
from recipes.costing import CostedLine, Costing
from recipes.models import Recipe
from recipes.schemas import (
    ContainerRead,
    LineRead,
    Portioning,
    ProblemRead,
    RecipeRead,
    RecipeSummary,
    Ref,
)
from servicekit.decimals import ZERO, shown


def _maybe(value: Decimal | None) -> Decimal | None:
    return None if value is None else shown(value)


def _portioning(recipe: Recipe, costing: Costing) -> Portioning:
    count = recipe.portion_count
    return Portioning(is_portioned=recipe.is_portioned, portion_name=recipe.portion_name,
                      portion_count=None if count is None else shown(count * costing.multiplier))


def recipe_summary(recipe: Recipe, costing: Costing,
                   categories: dict[uuid.UUID, str]) -> RecipeSummary:
    return RecipeSummary(**_summary_fields(recipe, costing, categories))


def _summary_fields(recipe: Recipe, costing: Costing,
                    categories: dict[uuid.UUID, str]) -> dict[str, object]:
    category = (Ref(id=recipe.category_id, name=categories.get(recipe.category_id))
                if recipe.category_id else None)
    return {
        "id": recipe.id, "name": recipe.name, "label_prefix": recipe.label_prefix,
        "version": recipe.version, "category": category,
        "yield_qty": shown(costing.yield_quantity), "yield_unit": recipe.yield_unit,
        "portioning": _portioning(recipe, costing), "batch_type": recipe.batch_type,
        "total_cost": shown(costing.total_cost), "cost_per_unit": shown(costing.cost_per_unit),
        "cost_per_portion": _maybe(costing.cost_per_portion),
        "selling_price": _maybe(recipe.selling_price),
        "food_cost_pct": _maybe(costing.food_cost_pct), "cost_complete": costing.cost_complete,
        "prep_time_min": recipe.prep_time_min, "cook_time_min": recipe.cook_time_min,
        "archived": recipe.archived, "updated_at": recipe.updated_at,
    }


def recipe_read(recipe: Recipe, costing: Costing, categories: dict[uuid.UUID, str],
                book: Book) -> RecipeRead:
    lines = [line for line in costing.lines if line.line.role != "container"]
    containers = [line for line in costing.lines if line.line.role == "container"]
    output = book.items.get(recipe.output_item_id) if recipe.output_item_id else None
    return RecipeRead(
        **_summary_fields(recipe, costing, categories),
        description=recipe.description,
        yield_density_g_per_ml=_maybe(recipe.yield_density_g_per_ml),
        instructions=recipe.instructions, target_cost_pct=_maybe(recipe.target_cost_pct),
        suggested_price=_suggested_price(recipe, costing),
        output_item=(Ref(id=recipe.output_item_id, name=output.name if output else None)
                     if recipe.output_item_id else None),
        multiplier=shown(costing.multiplier),
        items=[_line(line) for line in lines],
        containers=[ContainerRead(
            id=line.line.id, item=Ref(id=line.line.item_id, name=line.name),  # type: ignore[arg-type]
            quantity=shown(line.quantity), unit_cost=_maybe(line.unit_cost),
            cost=_maybe(line.cost)) for line in containers],
        ingredients_cost=shown(costing.cost_by_role.get("ingredient", ZERO)),
        consumables_cost=shown(costing.cost_by_role.get("consumable", ZERO)),
        containers_cost=shown(costing.cost_by_role.get("container", ZERO)),
        problems=[ProblemRead(code=p.code, message=p.message, recipe_id=p.recipe_id,
                              item_id=p.item_id, sub_recipe_id=p.sub_recipe_id, fix=p.fix)
                  for p in costing.problems],
        allergens=list(costing.allergens),
        nutrition_per_serving=({k: shown(v) for k, v in costing.nutrition_per_serving.items()}
                               if costing.nutrition_per_serving else None),
        nutrition_total={key: shown(value) for key, value in costing.nutrition.items()},
        nutrition_complete=not costing.nutrition_missing,
        nutrition_missing=list(costing.nutrition_missing),
        created_at=recipe.created_at,
    )


def _line(line: CostedLine) -> LineRead:
    ref = Ref(id=line.line.item_id or line.line.sub_recipe_id, name=line.name)  # type: ignore[arg-type]
    is_item = line.line.item_id is not None
    return LineRead(
        id=line.line.id, type="ingredient" if is_item else "sub_recipe", role=line.line.role,
        ingredient=ref if is_item else None, sub_recipe=None if is_item else ref,
        quantity=shown(line.quantity), unit=line.line.unit, unit_cost=_maybe(line.unit_cost),
        cost=_maybe(line.cost), cost_source=line.cost_source, notes=line.line.notes,
    )


def _suggested_price(recipe: Recipe, costing: Costing) -> Decimal | None:
    if not recipe.target_cost_pct:
        return None
    per_sale_unit = costing.total_cost / (costing.recipe.sale_units * costing.multiplier)
    return shown(per_sale_unit * 100 / recipe.target_cost_pct)
