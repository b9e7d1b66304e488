"""What keeps a recipe from being costed or made, each with a fix a client can offer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from recipes.book import ItemFacts, RecipeDef
from servicekit.errors import DomainError
from servicekit.units import DensityRequired


@dataclass(frozen=True, slots=True)
class Problem:
    code: str  # unknown_item | unknown_recipe | density_required | incompatible_units | no_cost
    message: str
    recipe_id: uuid.UUID
    item_id: uuid.UUID | None = None
    sub_recipe_id: uuid.UUID | None = None
    fix: dict[str, Any] | None = None

    @property
    def blocks_production(self) -> bool:
        """Whether stock could not be deducted for this (a cost can be unknown; a unit
        that does not convert, or an item nobody knows, cannot be taken from stock)."""
        return self.code != "no_cost"



def unique(problems: list[Problem]) -> tuple[Problem, ...]:
    seen: dict[tuple[Any, ...], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.code, problem.recipe_id, problem.item_id,
                         problem.sub_recipe_id), problem)
    return tuple(seen.values())


def conversion_problem(error: DomainError, recipe: RecipeDef, *,
                        item_id: uuid.UUID | None = None,
                        sub_recipe: RecipeDef | None = None) -> Problem:
    if not isinstance(error, DensityRequired):
        return Problem("incompatible_units", error.message, recipe.id, item_id=item_id,
                       sub_recipe_id=sub_recipe.id if sub_recipe else None)
    if sub_recipe is None:
        fix = (error.details or {}).get("fix")
        return Problem("density_required", error.message, recipe.id, item_id=item_id, fix=fix)
    return Problem(
        "density_required", error.message, recipe.id, sub_recipe_id=sub_recipe.id, fix={
            "action": "set_yield_density", "field": "yield_density_g_per_ml",
            "method": "PATCH", "path": f"/api/v1/recipes/{sub_recipe.id}",
            "message": f"Set the density (g/mL) of what {sub_recipe.name} yields",
        })


def cost_fix(item: ItemFacts) -> dict[str, Any]:
    return {
        "action": "set_purchase_price", "field": "purchase_price", "method": "PATCH",
        "path": f"/api/v1/inventory/items/{item.item_id}",
        "message": f"Receive stock of {item.name} with its cost, or set its purchase pack price",
    }
