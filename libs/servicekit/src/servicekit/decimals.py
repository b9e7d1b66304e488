"""Exact decimal figures as the fleet stores and shows them."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated

from pydantic import Field

SCALE = Decimal("0.00000001")  # NUMERIC(24, 8): what every stored quantity and cost holds
ZERO = Decimal(0)


def on_scale(value: Decimal) -> Decimal:
    """`value` rounded (half to even) to the stored eight decimal places."""
    return value.quantize(SCALE, rounding=ROUND_HALF_EVEN)


def tidy(value: Decimal) -> Decimal:
    """`value` without trailing zeros (`910.00000000` -> `910`), for payloads people read."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def shown(value: Decimal) -> Decimal:
    """`value` on the stored scale, without trailing zeros."""
    return tidy(on_scale(value))


MAX_AMOUNT = Decimal(10) ** 12

ExactDecimal = Annotated[Decimal, Field(allow_inf_nan=False, decimal_places=8, le=MAX_AMOUNT,
                                        ge=-MAX_AMOUNT)]
"""Any exact figure NUMERIC(24, 8) holds, as a request field; the types below narrow its sign.
NaN, infinities, more than 8 decimal places and magnitudes above 10^12 are refused."""
Quantity = Annotated[ExactDecimal, Field(ge=0)]
PositiveQuantity = Annotated[ExactDecimal, Field(gt=0)]
Money = Annotated[ExactDecimal, Field(ge=0)]
