"""A recipe book in memory: recipes with their sub-recipe trees and the items they use.

`load_book` reads everything one or many recipes reach in three statements (the recipes of
the whole tree, their lines, their items), so costing a page of recipes or a bill of
materials does not query per line or per level.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from recipes.models import ItemView, Recipe, RecipeLine
from servicekit import units
from servicekit.errors import DomainError
from servicekit.units import ItemUnits

LineRole = str  # ingredient | consumable | container


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What recipes knows of an inventory item (from its read model)."""

    item_id: uuid.UUID
    name: str
    type: str
    default_unit: str
    count_unit: str | None = None
    density_g_per_ml: Decimal | None = None
    unit_cost: Decimal | None = None  # FIFO cost basis per default unit
    allergens: tuple[str, ...] = ()
    nutrition_per_100g: dict[str, Decimal] | None = None
    category_name: str | None = None
    supplier_name: str | None = None
    purchase_unit: str | None = None
    purchase_quantity: Decimal | None = None
    purchase_price: Decimal | None = None
    archived: bool = False
    units: ItemUnits = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", ItemUnits(
            item_id=str(self.item_id), name=self.name, density_g_per_ml=self.density_g_per_ml,
            count_unit=self.count_unit))

    def to_default_unit(self, quantity: Decimal, unit: str) -> Decimal:
        if unit == self.default_unit:
            return quantity
        return units.convert(quantity, unit, self.default_unit, self.units)

    def cost_per_default_unit(self) -> tuple[Decimal | None, str | None]:
        """The item's cost per default unit and where it comes from: the FIFO cost basis of
        the stock on hand, else the purchase pack's price, else unknown."""
        if self.unit_cost is not None:
            return self.unit_cost, "fifo"
        if self.purchase_price is not None and self.purchase_quantity and self.purchase_unit:
            try:
                pack = self.to_default_unit(self.purchase_quantity, self.purchase_unit)
            except DomainError:
                return None, None
            return self.purchase_price / pack, "purchase_price"
        return None, None

    @classmethod
    def from_view(cls, view: Any) -> ItemFacts:
        """From an `ItemView` or a row of its columns."""
        nutrition = None
        if view.nutrition_per_100g:
            nutrition = {key: Decimal(str(value)) for key, value in view.nutrition_per_100g.items()}
        return cls(
            item_id=view.item_id, name=view.name, type=view.type,
            default_unit=view.default_unit, count_unit=view.count_unit,
            density_g_per_ml=view.density_g_per_ml, unit_cost=view.unit_cost,
            allergens=tuple(view.allergens or ()), nutrition_per_100g=nutrition,
            category_name=view.category_name, supplier_name=view.supplier_name,
            purchase_unit=view.purchase_unit, purchase_quantity=view.purchase_quantity,
            purchase_price=view.purchase_price, archived=view.archived,
        )


class LineDef(NamedTuple):
    id: uuid.UUID
    position: int
    role: LineRole
    quantity: Decimal
    unit: str
    item_id: uuid.UUID | None = None
    sub_recipe_id: uuid.UUID | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class RecipeDef:
    id: uuid.UUID
    name: str
    version: int
    label_prefix: str
    yield_quantity: Decimal
    yield_unit: str
    lines: tuple[LineDef, ...] = ()
    yield_density_g_per_ml: Decimal | None = None
    is_portioned: bool = False
    portion_name: str | None = None
    portion_count: Decimal | None = None
    selling_price: Decimal | None = None
    target_cost_pct: Decimal | None = None
    batch_type: str = "product"
    output_item_id: uuid.UUID | None = None
    archived: bool = False

    @property
    def yield_units(self) -> ItemUnits:
        """How the yield converts: a custom yield unit ("bars") counts; a density lets a
        weight yield be measured by volume and the other way round."""
        custom = None if self.yield_unit in units.UNITS else self.yield_unit
        return ItemUnits(item_id=str(self.id), name=self.name,
                         density_g_per_ml=self.yield_density_g_per_ml, count_unit=custom)

    @property
    def servings(self) -> Decimal | None:
        """Portions when portioned; else the yield when it is counted (24 cookies)."""
        if self.is_portioned and self.portion_count:
            return self.portion_count
        if units.unit(self.yield_unit, self.yield_units).dimension == "count":
            return self.yield_quantity
        return None

    @property
    def sale_units(self) -> Decimal:
        """What the selling price is per: a portion when portioned, else a yield unit."""
        return self.servings if self.is_portioned and self.servings else self.yield_quantity

    @classmethod
    def from_rows(cls, recipe: Any, lines: Iterable[Any]) -> RecipeDef:
        """From a `Recipe` and its `RecipeLine`s, or rows of their columns."""
        return cls(
            id=recipe.id, name=recipe.name, version=recipe.version,
            label_prefix=recipe.label_prefix, yield_quantity=recipe.yield_quantity,
            yield_unit=recipe.yield_unit, yield_density_g_per_ml=recipe.yield_density_g_per_ml,
            is_portioned=recipe.is_portioned, portion_name=recipe.portion_name,
            portion_count=recipe.portion_count, selling_price=recipe.selling_price,
            target_cost_pct=recipe.target_cost_pct, batch_type=recipe.batch_type,
            output_item_id=recipe.output_item_id, archived=recipe.archived,
            lines=tuple(LineDef(
                id=line.id, position=line.position, role=line.role, quantity=line.quantity,
                unit=line.unit, item_id=line.item_id, sub_recipe_id=line.sub_recipe_id,
                notes=line.notes,
            ) for line in sorted(lines, key=lambda line: line.position)),
        )


@dataclass(slots=True)
class Book:
    recipes: dict[uuid.UUID, RecipeDef] = field(default_factory=dict)
    items: dict[uuid.UUID, ItemFacts] = field(default_factory=dict)


async def load_book(session: AsyncSession, org_id: uuid.UUID,
                    recipe_ids: Iterable[uuid.UUID]) -> Book:
    """The recipes `recipe_ids` of `org_id`, every recipe their lines reach, and their items,
    in three statements (the tree by a recursive query; plain rows, no entities). Ids of other
    organizations are simply not found."""
    book = Book()
    roots = set(recipe_ids)
    if not roots:
        return book
    line = RecipeLine.__table__
    tree = (sa.select(Recipe.id.label("id"))
            .where(Recipe.org_id == org_id, Recipe.id.in_(roots))
            .cte("tree", recursive=True))
    tree = tree.union(
        sa.select(line.c.sub_recipe_id)
        .join(tree, line.c.recipe_id == tree.c.id)
        .where(line.c.org_id == org_id, line.c.sub_recipe_id.is_not(None)))
    reached = sa.select(tree.c.id)
    recipes = (await session.execute(
        sa.select(*Recipe.__table__.columns)
        .where(Recipe.org_id == org_id, Recipe.id.in_(reached)))).all()
    lines: dict[uuid.UUID, list[Any]] = {recipe.id: [] for recipe in recipes}
    for row in await session.execute(
            sa.select(*line.columns).where(line.c.org_id == org_id,
                                           line.c.recipe_id.in_(list(lines)))):
        lines[row.recipe_id].append(row)
    item_ids = {row.item_id for group in lines.values() for row in group
                if row.item_id is not None}
    item_ids |= {recipe.output_item_id for recipe in recipes
                 if recipe.output_item_id is not None}
    for recipe in recipes:
        book.recipes[recipe.id] = RecipeDef.from_rows(recipe, lines[recipe.id])
    if item_ids:
        views = await session.execute(
            sa.select(*ItemView.__table__.columns)
            .where(ItemView.org_id == org_id, ItemView.item_id.in_(item_ids)))
        book.items = {view.item_id: ItemFacts.from_view(view) for view in views}
    return book
