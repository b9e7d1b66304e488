"""What a recipe costs, contains and needs, through every level of sub-recipes, exactly.

Everything here is linear in the batch size, so each recipe is worked out once at its own
yield (`Costing`) and scaled by multiplying (`Costing.scaled`). A sub-recipe line takes the
fraction of the sub-recipe's yield it measures (`quantity` in a unit of that yield).

What cannot be worked out (an item recipes has not heard of, a conversion that needs a density,
an item with no cost yet) does not fail the whole: the line shows no cost, the costing is
marked incomplete and a `Problem` says what is missing, with a machine-readable fix where one
helps.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from recipes.book import Book, ItemFacts, LineDef, RecipeDef
from recipes.problems import Problem, conversion_problem, cost_fix, unique
from servicekit import units
from servicekit.decimals import ZERO
from servicekit.errors import DomainError, ValidationFailed


@dataclass(frozen=True, slots=True)
class Need:
    """How much of one item a recipe takes in one role, through all its sub-recipes."""

    item_id: uuid.UUID
    role: str
    by_unit: dict[str, Decimal]  # as the recipes wrote it, per unit used
    default_quantity: Decimal | None  # in the item's default unit; None if it won't convert

    def scaled(self, factor: Decimal) -> Need:
        return Need(self.item_id, self.role, {u: q * factor for u, q in self.by_unit.items()},
                    None if self.default_quantity is None else self.default_quantity * factor)

    def plus(self, other: Need) -> Need:
        by_unit = dict(self.by_unit)
        for unit, quantity in other.by_unit.items():
            by_unit[unit] = by_unit.get(unit, ZERO) + quantity
        default = (None if self.default_quantity is None or other.default_quantity is None
                   else self.default_quantity + other.default_quantity)
        return Need(self.item_id, self.role, by_unit, default)


@dataclass(frozen=True, slots=True)
class SubShare:
    """A sub-recipe line's share of one batch of the sub-recipe."""

    recipe_id: uuid.UUID
    fraction: Decimal


@dataclass(frozen=True, slots=True)
class CostedLine:
    line: LineDef
    name: str | None
    quantity: Decimal
    cost: Decimal | None
    cost_source: str | None  # fifo | purchase_price | recipe
    problems: tuple[Problem, ...] = ()

    @property
    def unit_cost(self) -> Decimal | None:
        return None if self.cost is None else self.cost / self.quantity


@dataclass(frozen=True, slots=True)
class Costing:
    recipe: RecipeDef
    multiplier: Decimal
    lines: tuple[CostedLine, ...]
    cost_by_role: dict[str, Decimal]
    problems: tuple[Problem, ...]
    allergens: tuple[str, ...]
    nutrition: dict[str, Decimal]  # for the whole batch, from the items that state it
    nutrition_missing: tuple[str, ...]  # names of ingredients whose nutrition is unknown
    # The recipe's own item lines and its sub-recipe shares, in line order, at its own yield;
    # `Coster.needs` expands them.
    parts: tuple[Need | SubShare, ...] = ()

    @property
    def total_cost(self) -> Decimal:
        return sum(self.cost_by_role.values(), ZERO)

    @property
    def cost_complete(self) -> bool:
        return not self.problems

    @property
    def yield_quantity(self) -> Decimal:
        return self.recipe.yield_quantity * self.multiplier

    @property
    def servings(self) -> Decimal | None:
        servings = self.recipe.servings
        return None if servings is None else servings * self.multiplier

    @property
    def cost_per_unit(self) -> Decimal:
        return self.total_cost / self.yield_quantity

    @property
    def cost_per_portion(self) -> Decimal | None:
        servings = self.servings
        return None if not servings else self.total_cost / servings

    @property
    def food_cost_pct(self) -> Decimal | None:
        price = self.recipe.selling_price
        if not price:
            return None
        per_sale_unit = self.total_cost / (self.recipe.sale_units * self.multiplier)
        return per_sale_unit / price * 100

    @property
    def nutrition_per_serving(self) -> dict[str, Decimal] | None:
        servings = self.servings
        if not servings or not self.nutrition:
            return None
        return {key: value / servings for key, value in self.nutrition.items()}

    def scaled(self, factor: Decimal) -> Costing:
        if factor == 1:
            return self
        return replace(
            self, multiplier=self.multiplier * factor,
            lines=tuple(replace(line, quantity=line.quantity * factor,
                                cost=None if line.cost is None else line.cost * factor)
                        for line in self.lines),
            cost_by_role={role: cost * factor for role, cost in self.cost_by_role.items()},
            nutrition={key: value * factor for key, value in self.nutrition.items()},
        )


class RecipeCycle(ValidationFailed):
    code = "RECIPE_CYCLE"
    default_message = "A recipe cannot contain itself through its sub-recipes"


class Coster:
    """Works out recipes of one book, each once."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self._done: dict[uuid.UUID, Costing] = {}
        self._open: list[uuid.UUID] = []

    def cost(self, recipe_id: uuid.UUID, multiplier: Decimal = Decimal(1)) -> Costing:
        return self._base(recipe_id).scaled(multiplier)

    def needs(self, recipe_id: uuid.UUID,
              multiplier: Decimal = Decimal(1)) -> dict[tuple[uuid.UUID, str], Need]:
        """Every stocked item one recipe takes, per (item, role), through all its
        sub-recipes, in the order its lines name them."""
        needs: dict[tuple[uuid.UUID, str], Need] = {}

        def walk(recipe: uuid.UUID, factor: Decimal) -> None:
            for part in self._base(recipe).parts:
                if isinstance(part, SubShare):
                    walk(part.recipe_id, factor * part.fraction)
                else:
                    _add(needs, part.scaled(factor))

        walk(recipe_id, multiplier)
        return needs

    def total_needs(self, wanted: Iterable[tuple[uuid.UUID, Decimal]],
                    ) -> dict[tuple[uuid.UUID, str], Need]:
        """What several recipes take together, each (recipe, multiplier). Every recipe of the
        trees is weighed once (the sum of its shares over all paths to it) and its own lines
        scaled once, however many recipes share it."""
        weights: dict[uuid.UUID, Decimal] = {}
        roots = []
        for recipe_id, multiplier in wanted:
            weights[recipe_id] = weights.get(recipe_id, ZERO) + multiplier
            roots.append(recipe_id)
        order = self._parents_first(roots)
        for recipe_id in order:
            weight = weights.get(recipe_id)
            if not weight:
                continue
            for part in self._base(recipe_id).parts:
                if isinstance(part, SubShare):
                    weights[part.recipe_id] = (weights.get(part.recipe_id, ZERO)
                                               + weight * part.fraction)
        needs: dict[tuple[uuid.UUID, str], Need] = {}
        for recipe_id in order:
            weight = weights.get(recipe_id)
            for part in self._base(recipe_id).parts if weight else ():
                if isinstance(part, Need):
                    _add(needs, part.scaled(weight))  # type: ignore[arg-type]
        return needs

    def _parents_first(self, roots: Iterable[uuid.UUID]) -> list[uuid.UUID]:
        """The recipes `roots` reach, each after every recipe that uses it."""
        seen: set[uuid.UUID] = set()
        finished: list[uuid.UUID] = []

        def visit(recipe_id: uuid.UUID) -> None:
            seen.add(recipe_id)
            for part in self._base(recipe_id).parts:
                if isinstance(part, SubShare) and part.recipe_id not in seen:
                    visit(part.recipe_id)
            finished.append(recipe_id)

        for root in roots:
            if root not in seen:
                visit(root)
        return finished[::-1]

    def _base(self, recipe_id: uuid.UUID) -> Costing:
        done = self._done.get(recipe_id)
        if done is not None:
            return done
        if recipe_id in self._open:
            path = [*self._open[self._open.index(recipe_id):], recipe_id]
            raise RecipeCycle(details={"path": [str(step) for step in path]})
        self._open.append(recipe_id)
        try:
            costing = self._work_out(self.book.recipes[recipe_id])
        finally:
            self._open.pop()
        self._done[recipe_id] = costing
        return costing

    def _work_out(self, recipe: RecipeDef) -> Costing:
        lines: list[CostedLine] = []
        cost_by_role: dict[str, Decimal] = {}
        problems: list[Problem] = []
        allergens: set[str] = set()
        nutrition: dict[str, Decimal] = {}
        missing: list[str] = []
        parts: list[Need | SubShare] = []
        for line in recipe.lines:
            if line.item_id is not None:
                item = self.book.items.get(line.item_id)
                costed, default = self._item_line(recipe, line, item)
                parts.append(Need(line.item_id, line.role, {line.unit: line.quantity}, default))
                if item is not None and line.role == "ingredient":
                    allergens.update(item.allergens)
                    grams = _grams(item, line) if item.nutrition_per_100g else None
                    if grams is None or item.nutrition_per_100g is None:
                        missing.append(item.name)
                    else:
                        for key, per_100g in item.nutrition_per_100g.items():
                            nutrition[key] = nutrition.get(key, ZERO) + per_100g * grams / 100
            else:
                costed, share = self._sub_recipe_line(recipe, line)
                if share is not None:
                    sub = self._base(share.recipe_id)
                    allergens.update(sub.allergens)
                    missing += sub.nutrition_missing
                    for key, value in sub.nutrition.items():
                        nutrition[key] = nutrition.get(key, ZERO) + value * share.fraction
                    parts.append(share)
                    problems += sub.problems
            lines.append(costed)
            problems += costed.problems
            if costed.cost is not None:
                cost_by_role[line.role] = cost_by_role.get(line.role, ZERO) + costed.cost
        return Costing(
            recipe=recipe, multiplier=Decimal(1), lines=tuple(lines), cost_by_role=cost_by_role,
            problems=unique(problems), allergens=tuple(sorted(allergens)),
            nutrition=nutrition, nutrition_missing=tuple(dict.fromkeys(missing)),
            parts=tuple(parts),
        )

    def _item_line(self, recipe: RecipeDef, line: LineDef,
                   item: ItemFacts | None) -> tuple[CostedLine, Decimal | None]:
        """The line costed, and its quantity in the item's default unit (None if it won't
        convert)."""
        if item is None:
            return CostedLine(line, None, line.quantity, None, None, (Problem(
                "unknown_item", "The item is not known to recipes (yet)", recipe.id,
                item_id=line.item_id),)), None
        try:
            quantity = item.to_default_unit(line.quantity, line.unit)
        except DomainError as error:
            return CostedLine(line, item.name, line.quantity, None, None,
                              (conversion_problem(error, recipe, item_id=item.item_id),)), None
        per_unit, source = item.cost_per_default_unit()
        if per_unit is None:
            return CostedLine(line, item.name, line.quantity, None, None, (Problem(
                "no_cost", f"{item.name} has no cost yet: no stock on hand and no purchase "
                "price", recipe.id, item_id=item.item_id, fix=cost_fix(item)),)), quantity
        return CostedLine(line, item.name, line.quantity, quantity * per_unit, source), quantity

    def _sub_recipe_line(self, recipe: RecipeDef,
                         line: LineDef) -> tuple[CostedLine, SubShare | None]:
        assert line.sub_recipe_id is not None
        sub = self.book.recipes.get(line.sub_recipe_id)
        if sub is None:
            return CostedLine(line, None, line.quantity, None, None, (Problem(
                "unknown_recipe", "The sub-recipe does not exist", recipe.id,
                sub_recipe_id=line.sub_recipe_id),)), None
        try:
            fraction = sub_recipe_fraction(sub, line.quantity, line.unit)
        except DomainError as error:
            return CostedLine(line, sub.name, line.quantity, None, None,
                              (conversion_problem(error, recipe, sub_recipe=sub),)), None
        cost = self._base(sub.id).total_cost * fraction
        return CostedLine(line, sub.name, line.quantity, cost, "recipe"), SubShare(sub.id,
                                                                                   fraction)


def sub_recipe_fraction(sub: RecipeDef, quantity: Decimal, unit: str) -> Decimal:
    """The share of one batch of `sub` that `quantity` `unit` of its yield is."""
    if unit == sub.yield_unit:
        return quantity / sub.yield_quantity
    return units.convert(quantity, unit, sub.yield_unit, sub.yield_units) / sub.yield_quantity


def multiplier_for(recipe: RecipeDef, *, portions: Decimal | None = None,
                   multiplier: Decimal | None = None) -> Decimal:
    """The batch-size factor for `portions` (of the portioned recipe, else of its yield) or an
    explicit `multiplier`; 1 without either."""
    if portions is not None:
        base = recipe.portion_count if recipe.is_portioned and recipe.portion_count else None
        return portions / (base or recipe.yield_quantity)
    return multiplier if multiplier is not None else Decimal(1)


def _grams(item: ItemFacts, line: LineDef) -> Decimal | None:
    try:
        return units.convert(line.quantity, line.unit, "g", item.units)
    except DomainError:
        return None


def _add(needs: dict[tuple[uuid.UUID, str], Need], need: Need) -> None:
    key = (need.item_id, need.role)
    needs[key] = needs[key].plus(need) if key in needs else need
