"""Units at the HTTP edge, and the bounded decimal types every inventory request uses.

Quantities and money arrive as JSON numbers (or strings) and become exact Decimals; anything a
NUMERIC(24, 8) column could not hold exactly is refused: NaN and infinities, more than 8
decimal places, magnitudes above 10^12.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from servicekit.decimals import Quantity
from servicekit.types import JsonDecimal

UnitSymbol = Annotated[str, Field(min_length=1, max_length=32)]
UnitType = Literal["mass", "volume", "count"]


class UnitRead(BaseModel):
    symbol: str
    name: str
    unit_type: UnitType
    base_unit: bool
    base_symbol: str = Field(description="The unit `factor` converts to: g, ml or count")
    factor: JsonDecimal = Field(description="How many base units one of this unit is")


class ConversionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_unit: UnitSymbol
    to_unit: UnitSymbol
    quantity: Quantity
    item_id: uuid.UUID | None = Field(
        default=None, description="Use this item's density and count unit")


class ConversionRead(BaseModel):
    converted_quantity: JsonDecimal
    from_unit: str
    to_unit: str
    conversion_factor: JsonDecimal
