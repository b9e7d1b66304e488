"""Recipes at the HTTP edge: what requests may say and what responses show."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from servicekit.decimals import Money, PositiveQuantity
from servicekit.types import JsonDecimal

UnitSymbol = Annotated[str, Field(min_length=1, max_length=32)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Minutes = Annotated[int, Field(ge=0, le=100_000)]
Percent = Annotated[Decimal, Field(ge=0, le=1000, decimal_places=3, allow_inf_nan=False)]
BatchType = Literal["product", "ingredient"]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ItemViewRead(BaseModel):
    """An inventory item as recipes sees it (read-only; inventory owns items)."""

    model_config = ConfigDict(from_attributes=True)

    item_id: uuid.UUID
    name: str
    type: str
    default_unit: str
    count_unit: str | None = None
    sku: str | None
    density_g_per_ml: JsonDecimal | None
    unit_cost: JsonDecimal | None
    allergens: list[str]
    nutrition_per_100g: dict[str, JsonDecimal] | None = None
    category_name: str | None = None
    supplier_name: str | None = None
    purchase_unit: str | None = None
    purchase_quantity: JsonDecimal | None = None
    purchase_price: JsonDecimal | None = None
    shelf_life_days: int | None = None
    archived: bool
    updated_at: datetime


# --- categories --------------------------------------------------------------------------------

class CategoryWrite(Request):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str | None, Field(max_length=2000)] = None


class CategoryPatch(Request):
    name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    description: Annotated[str | None, Field(max_length=2000)] = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


# --- recipe definitions ------------------------------------------------------------------------

class LineWrite(Request):
    """An item (seed 001 calls it `ingredient_id`) or a sub-recipe, never both."""

    item_id: uuid.UUID | None = Field(
        default=None, validation_alias=AliasChoices("item_id", "ingredient_id"))
    sub_recipe_id: uuid.UUID | None = None
    quantity: PositiveQuantity
    unit: UnitSymbol = Field(description="For a sub-recipe, a unit of its yield")
    role: Literal["ingredient", "consumable"] | None = Field(
        default=None, description="Defaults to consumable for consumable and packaging items, "
                                  "else ingredient; a sub-recipe is always an ingredient")
    notes: Annotated[str | None, Field(max_length=500)] = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.item_id is None) == (self.sub_recipe_id is None):
            raise ValueError("give either item_id (ingredient_id) or sub_recipe_id")
        if self.sub_recipe_id is not None and self.role == "consumable":
            raise ValueError("a sub-recipe line is an ingredient")
        return self


class ContainerWrite(Request):
    item_id: uuid.UUID = Field(validation_alias=AliasChoices("item_id", "id"))
    quantity: PositiveQuantity = Field(description="Containers one batch fills")


class PortioningWrite(Request):
    is_portioned: bool = False
    portion_name: Annotated[str | None, Field(min_length=1, max_length=50)] = None
    portion_count: PositiveQuantity | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.is_portioned and (self.portion_name is None or self.portion_count is None):
            raise ValueError("a portioned recipe needs portion_name and portion_count")
        return self


class RecipeFields(Request):
    """Every field of a recipe; None means "not given" in a PATCH."""

    name: Name | None = None
    label_prefix: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9]{1,12}$")] = None
    description: Annotated[str | None, Field(max_length=5000)] = None
    category_id: uuid.UUID | None = None
    yield_qty: PositiveQuantity | None = Field(
        default=None, validation_alias=AliasChoices("yield_qty", "yield_quantity"))
    yield_unit: UnitSymbol | None = None
    yield_density_g_per_ml: PositiveQuantity | None = None
    portioning: PortioningWrite | None = None
    prep_time_min: Minutes | None = None
    cook_time_min: Minutes | None = None
    instructions: Annotated[str | None, Field(max_length=20_000)] = None
    selling_price: Money | None = None
    target_cost_pct: Percent | None = None
    batch_type: BatchType | None = None
    output_item_id: uuid.UUID | None = Field(
        default=None, description="The item a batch yields: a product, or for an ingredient "
                                  "batch the intermediate (a lye solution)")
    items: Annotated[list[LineWrite] | None, Field(min_length=1, max_length=200)] = None
    containers: Annotated[list[ContainerWrite] | None, Field(max_length=50)] = None


class RecipeWrite(RecipeFields):
    """A whole recipe (create, or replace with PUT)."""

    name: Name
    yield_qty: PositiveQuantity = Field(
        validation_alias=AliasChoices("yield_qty", "yield_quantity"))
    yield_unit: UnitSymbol
    items: Annotated[list[LineWrite], Field(min_length=1, max_length=200)]


# --- reads -------------------------------------------------------------------------------------

class Ref(BaseModel):
    id: uuid.UUID
    name: str | None


class ProblemRead(BaseModel):
    code: str
    message: str
    recipe_id: uuid.UUID
    item_id: uuid.UUID | None = None
    sub_recipe_id: uuid.UUID | None = None
    fix: dict[str, Any] | None = None


class LineRead(BaseModel):
    id: uuid.UUID
    type: Literal["ingredient", "sub_recipe"]
    role: str
    ingredient: Ref | None = None
    sub_recipe: Ref | None = None
    quantity: JsonDecimal
    unit: str
    unit_cost: JsonDecimal | None = Field(description="Per `unit`")
    cost: JsonDecimal | None
    cost_source: str | None = Field(
        description="fifo (stock on hand), purchase_price (no stock), recipe (sub-recipe)")
    notes: str | None = None


class ContainerRead(BaseModel):
    id: uuid.UUID
    item: Ref
    quantity: JsonDecimal
    unit_cost: JsonDecimal | None
    cost: JsonDecimal | None


class Portioning(BaseModel):
    is_portioned: bool
    portion_name: str | None
    portion_count: JsonDecimal | None


class RecipeSummary(BaseModel):
    id: uuid.UUID
    name: str
    label_prefix: str
    version: int
    category: Ref | None
    yield_qty: JsonDecimal
    yield_unit: str
    portioning: Portioning
    batch_type: str
    total_cost: JsonDecimal
    cost_per_unit: JsonDecimal
    cost_per_portion: JsonDecimal | None
    selling_price: JsonDecimal | None
    food_cost_pct: JsonDecimal | None
    cost_complete: bool
    prep_time_min: int | None
    cook_time_min: int | None
    archived: bool
    updated_at: datetime


class RecipeRead(RecipeSummary):
    """A recipe with seed 001's cost breakdown (scaled by `multiplier`)."""

    description: str | None
    yield_density_g_per_ml: JsonDecimal | None
    instructions: str | None
    target_cost_pct: JsonDecimal | None
    suggested_price: JsonDecimal | None = Field(
        description="The price at which the cost is target_cost_pct of it")
    output_item: Ref | None
    multiplier: JsonDecimal
    items: list[LineRead]
    containers: list[ContainerRead]
    ingredients_cost: JsonDecimal
    consumables_cost: JsonDecimal
    containers_cost: JsonDecimal
    problems: list[ProblemRead]
    allergens: list[str]
    nutrition_per_serving: dict[str, JsonDecimal] | None
    nutrition_total: dict[str, JsonDecimal]
    nutrition_complete: bool
    nutrition_missing: list[str]
    created_at: datetime


class PrefixRead(BaseModel):
    prefix: str


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    change: str
    created_at: datetime
    created_by: str | None
    definition: dict[str, Any]
