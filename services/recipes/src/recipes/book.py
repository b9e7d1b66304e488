"""A recipe book in memory: recipes with their sub-recipe trees and the items they use.

`load_book` reads everything one or many recipes reach in a query per tree level (recipes,
their lines) plus one for the items, so costing a page of recipes or a bill of materials
does not query per line.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

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

    @property
    def units(self) -> ItemUnits:
        return ItemUnits(item_id=str(self.item_id), name=self.name,
                         density_g_per_ml=self.density_g_per_ml, count_unit=self.count_unit)

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
    def from_view(cls, view: ItemView) -> ItemFacts:
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


@dataclass(frozen=True, slots=True)
class LineDef:
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
    def from_rows(cls, recipe: Recipe, lines: Iterable[RecipeLine]) -> RecipeDef:
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
    """The recipes `recipe_ids` of `org_id`, every recipe their lines reach, and their items.
    Ids of other organizations are simply not found."""
    book = Book()
    frontier = set(recipe_ids)
    item_ids: set[uuid.UUID] = set()
    while frontier:
        recipes = (await session.scalars(
            sa.select(Recipe).where(Recipe.org_id == org_id, Recipe.id.in_(frontier)))).all()
        found = {recipe.id for recipe in recipes}
        lines: dict[uuid.UUID, list[RecipeLine]] = {recipe_id: [] for recipe_id in found}
        if found:
            for line in await session.scalars(
                    sa.select(RecipeLine).where(RecipeLine.org_id == org_id,
                                                RecipeLine.recipe_id.in_(found))):
                lines[line.recipe_id].append(line)
        for recipe in recipes:
            book.recipes[recipe.id] = RecipeDef.from_rows(recipe, lines[recipe.id])
        frontier = set()
        for group in lines.values():
            for line in group:
                if line.item_id is not None:
                    item_ids.add(line.item_id)
                elif line.sub_recipe_id not in book.recipes:
                    frontier.add(line.sub_recipe_id)  # type: ignore[arg-type]
    for recipe in book.recipes.values():
        if recipe.output_item_id is not None:
            item_ids.add(recipe.output_item_id)
    if item_ids:
        views = await session.scalars(
            sa.select(ItemView).where(ItemView.org_id == org_id, ItemView.item_id.in_(item_ids)))
        book.items = {view.item_id: ItemFacts.from_view(view) for view in views}
    return book
