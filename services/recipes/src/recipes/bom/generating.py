"""Generating a bill of materials.

Every recipe is expanded through its sub-recipes to stocked items; each item appears once,
in the unit the recipes used (or its own unit when they differ), in its purchase unit, and
in whole purchase packs. A generated bill is saved as it was, so it can be listed, fetched and
exported later even after prices move.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from recipes.bom.schemas import BomWrite
from recipes.book import ItemFacts, load_book
from recipes.costing import Coster, Need, multiplier_for
from recipes.models import Bom
from recipes.problems import Problem
from recipes.schemas import ProblemRead
from servicekit import units
from servicekit.db import UnitOfWork
from servicekit.decimals import ZERO, on_scale, shown
from servicekit.errors import DomainError, ValidationFailed
from servicekit.identity import Caller


async def generate(uow: UnitOfWork, caller: Caller, body: BomWrite) -> Bom:
    book = await load_book(uow.session, caller.org_id, {r.recipe_id for r in body.recipes})
    coster = Coster(book)
    totals: dict[uuid.UUID, _ItemTotal] = {}
    problems: dict[tuple[Any, ...], Problem] = {}
    included = []
    sizes: list[tuple[uuid.UUID, Decimal]] = []
    for index, wanted in enumerate(body.recipes):
        recipe = book.recipes.get(wanted.recipe_id)
        if recipe is None:
            raise ValidationFailed(f"No such recipe {wanted.recipe_id}", details={
                "fields": {f"recipes.{index}.recipe_id": ["no such recipe"]}})
        factor = multiplier_for(recipe, portions=wanted.portions, multiplier=wanted.multiplier)
        costing = coster.cost(recipe.id)
        sizes.append((recipe.id, factor))
        included.append({"id": str(recipe.id), "name": recipe.name, "version": recipe.version,
                         "portions": _text(wanted.portions), "multiplier": str(shown(factor))})
        for problem in costing.problems:
            problems.setdefault((problem.code, problem.item_id, problem.sub_recipe_id), problem)
    for need in coster.total_needs(sizes).values():
        # One line per item, whatever roles it plays.
        total = totals.get(need.item_id)
        if total is None:
            total = totals[need.item_id] = _ItemTotal()
        total.add(need, Decimal(1))
    lines = [line for item_id, total in totals.items() if item_id in book.items
             for line in _lines(book.items[item_id], total)]
    lines.sort(key=lambda line: (line["category"] or "\uffff", line["ingredient_name"]))
    complete = not problems and all(line["line_cost"] is not None for line in lines)
    bom = Bom(
        org_id=caller.org_id, name=body.name, date=body.date, recipes=included, lines=lines,
        total_cost=sum((Decimal(line["line_cost"]) for line in lines if line["line_cost"]),
                       ZERO),
        total_purchase_cost=sum((Decimal(line["purchase_cost"]) for line in lines
                                 if line["purchase_cost"]), ZERO),
        cost_complete=complete, created_by=caller.user_id,
        problems=[_problem_json(problem) for problem in problems.values()],
    )
    uow.session.add(bom)
    await uow.commit()
    return bom


@dataclass(slots=True)
class _ItemTotal:
    """What all the recipes need of one item: per unit as written, and in its default unit
    (None once a part of it does not convert)."""

    by_unit: dict[str, Decimal] = field(default_factory=dict)
    default_quantity: Decimal | None = ZERO
    roles: set[str] = field(default_factory=set)

    def add(self, need: Need, factor: Decimal) -> None:
        for unit, quantity in need.by_unit.items():
            self.by_unit[unit] = self.by_unit.get(unit, ZERO) + quantity * factor
        if self.default_quantity is not None:
            self.default_quantity = (None if need.default_quantity is None
                                     else self.default_quantity + need.default_quantity * factor)
        self.roles.add(need.role)


def _lines(item: ItemFacts, total: _ItemTotal) -> list[dict[str, Any]]:
    """One line for the item; more only when its quantities cannot be added up (a volume and a
    weight of an item without a density): one per group that can, rather than a made-up total."""
    if total.default_quantity is not None:
        return [_line(item, total.by_unit, total.default_quantity, total.roles)]
    return [_line(item, by_unit, default, total.roles)
            for by_unit, default in _addable_groups(item, total.by_unit)]


def _addable_groups(item: ItemFacts, by_unit: dict[str, Decimal],
                    ) -> list[tuple[dict[str, Decimal], Decimal | None]]:
    """The quantities that convert to the item's default unit (with their total in it), then
    the others by dimension (without one)."""
    convertible: dict[str, Decimal] = {}
    default = ZERO
    apart: dict[str, dict[str, Decimal]] = {}
    for unit, quantity in by_unit.items():
        try:
            default += item.to_default_unit(quantity, unit)
        except DomainError:
            try:
                dimension = units.unit(unit, item.units).dimension
            except DomainError:
                dimension = unit
            apart.setdefault(dimension, {})[unit] = quantity
        else:
            convertible[unit] = quantity
    groups: list[tuple[dict[str, Decimal], Decimal | None]] = []
    if convertible:
        groups.append((convertible, default))
    return groups + [(group, None) for group in apart.values()]


def _line(item: ItemFacts, by_unit: dict[str, Decimal], default_quantity: Decimal | None,
          roles: set[str]) -> dict[str, Any]:
    """The item in the unit the recipes used when they all agree, else in its default unit
    (or, for quantities that do not convert to that, in the first unit they were written in)."""
    if len(by_unit) == 1:
        unit, total = next(iter(by_unit.items()))
    elif default_quantity is not None:
        unit, total = item.default_unit, default_quantity
    else:
        unit = next(iter(by_unit))
        total = sum((units.convert(quantity, written, unit, item.units)
                     for written, quantity in by_unit.items()), ZERO)
    per_default, source = item.cost_per_default_unit()
    line_cost = (None if per_default is None or default_quantity is None
                 else default_quantity * per_default)
    purchase_qty, packs, purchase_cost = _purchase(item, default_quantity)
    return {
        "ingredient_id": str(item.item_id), "ingredient_name": item.name, "type": item.type,
        "roles": sorted(roles), "category": item.category_name, "supplier": item.supplier_name,
        "total_qty": str(shown(total)), "unit": unit,
        "purchase_qty": _text(purchase_qty), "purchase_unit": item.purchase_unit,
        "pack_size": _text(item.purchase_quantity), "packs": packs,
        "pack_price": _text(item.purchase_price), "purchase_cost": _text(purchase_cost),
        "unit_cost": _text(None if line_cost is None else line_cost / total),
        "line_cost": _text(line_cost), "cost_source": source if line_cost is not None else None,
    }


def _purchase(item: ItemFacts, default_quantity: Decimal | None,
              ) -> tuple[Decimal | None, int | None, Decimal | None]:
    """The quantity in the purchase unit, the whole packs that cover it, and their price."""
    if default_quantity is None or not item.purchase_unit or not item.purchase_quantity:
        return None, None, None
    try:
        in_purchase_unit = units.convert(default_quantity, item.default_unit,
                                         item.purchase_unit, item.units)
    except DomainError:
        return None, None, None
    # On the stored scale first: a need scaled by 5/3 or converted through a density can
    # come out a hair above a whole number of packs (3000.000000000000000000000001 g of
    # 1000 g bags), which must not buy one more.
    packs = int(on_scale(in_purchase_unit / item.purchase_quantity).to_integral_value(
        rounding=ROUND_CEILING))
    cost = None if item.purchase_price is None else item.purchase_price * packs
    return in_purchase_unit, packs, cost


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(shown(value))


def _problem_json(problem: Problem) -> dict[str, Any]:
    return ProblemRead(code=problem.code, message=problem.message, recipe_id=problem.recipe_id,
                       item_id=problem.item_id, sub_recipe_id=problem.sub_recipe_id,
                       fix=problem.fix).model_dump(mode="json")

