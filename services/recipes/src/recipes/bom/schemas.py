"""Bills of materials at the HTTP edge (seed 001's shapes)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from recipes.schemas import ProblemRead, Request
from servicekit.decimals import PositiveQuantity
from servicekit.types import JsonDecimal


class BomRecipeWrite(Request):
    recipe_id: uuid.UUID
    portions: PositiveQuantity | None = Field(
        default=None, description="Portions to make (yield units when not portioned)")
    multiplier: PositiveQuantity | None = Field(default=None, description="Or: batches")

    @model_validator(mode="after")
    def _one_size(self) -> BomRecipeWrite:
        if (self.portions is None) == (self.multiplier is None):
            raise ValueError("give either portions or multiplier")
        return self


class BomWrite(Request):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    date: dt.date | None = None
    recipes: Annotated[list[BomRecipeWrite], Field(min_length=1, max_length=200)]


class BomRecipe(BaseModel):
    id: uuid.UUID
    name: str
    version: int
    portions: JsonDecimal | None
    multiplier: JsonDecimal


class BomLine(BaseModel):
    ingredient_id: uuid.UUID
    ingredient_name: str
    type: str
    roles: list[str]
    category: str | None
    supplier: str | None
    total_qty: JsonDecimal
    unit: str
    purchase_qty: JsonDecimal | None = Field(description="total_qty in the purchase unit")
    purchase_unit: str | None
    pack_size: JsonDecimal | None = Field(description="purchase_unit per pack")
    packs: int | None = Field(description="Whole packs to buy")
    pack_price: JsonDecimal | None
    purchase_cost: JsonDecimal | None = Field(description="packs x pack_price")
    unit_cost: JsonDecimal | None = Field(description="Per `unit`")
    line_cost: JsonDecimal | None = Field(description="total_qty x unit_cost")
    cost_source: str | None


class BomRead(BaseModel):
    id: uuid.UUID
    name: str
    date: dt.date | None
    recipes_included: list[BomRecipe]
    items: list[BomLine]
    total_cost: JsonDecimal
    total_purchase_cost: JsonDecimal
    cost_complete: bool
    problems: list[ProblemRead]
    created_at: dt.datetime


class BomSummary(BaseModel):
    id: uuid.UUID
    name: str
    date: dt.date | None
    recipes: int
    lines: int
    total_cost: JsonDecimal
    total_purchase_cost: JsonDecimal
    cost_complete: bool
    created_at: dt.datetime

