"""Pure rules of a batch: its code, how its cost is shared among outputs, its costing figures.
No I/O.

Money and quantities are exact decimals held to eight decimal places (`on_scale`), what the
NUMERIC(24, 8) columns keep; a batch's cost is shared among its outputs so that the shares add
up to the cost exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from servicekit.decimals import SCALE, ZERO, on_scale, tidy

DEFAULT_PREFIX = "BATCH"
MAX_PREFIX = 12
VARIANT_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# --- codes -----------------------------------------------------------------------------------

def code_prefix(label_prefix: str | None, recipe_name: str | None) -> str:
    """The recipe's label prefix; else the initials of its name ("Milk and Honey" -> "MAH");
    else "BATCH". Letters and digits only, upper case, so a code never holds a stray dash."""
    if label_prefix:
        cleaned = re.sub(r"[^A-Z0-9]", "", label_prefix.upper())[:MAX_PREFIX]
        if cleaned:
            return cleaned
    if recipe_name:
        words = re.findall(r"[A-Za-z0-9]+", recipe_name)
        initials = "".join(word[0] for word in words).upper()[:MAX_PREFIX]
        if initials:
            return initials
    return DEFAULT_PREFIX


def batch_code(prefix: str, day: date, number: int) -> str:
    """`MAH-20261123-01`: prefix, UTC day, that day's sequence (two digits, more past 99)."""
    return f"{prefix}-{day:%Y%m%d}-{number:02d}"


def variant_code(parent_code: str, index: int) -> str:
    """The `index`th variant of a split batch: `MAH-20261123-01-A`, `-B`, ... `-Z`, `-AA`."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, len(VARIANT_LETTERS))
        letters = VARIANT_LETTERS[remainder] + letters
    return f"{parent_code}-{letters}"


def output_lot_numbers(code: str, item_ids: Sequence[object]) -> list[str]:
    """The batch code for each output's lot; `-1`, `-2`... where outputs share an item."""
    repeated = {item for item in item_ids if list(item_ids).count(item) > 1}
    seen: dict[object, int] = {}
    numbers = []
    for item in item_ids:
        if item in repeated:
            seen[item] = seen.get(item, 0) + 1
            numbers.append(f"{code}-{seen[item]}")
        else:
            numbers.append(code)
    return numbers


# --- cost allocation -------------------------------------------------------------------------

class AllocationError(ValueError):
    """The outputs do not say how the batch's cost is to be shared."""


@dataclass(frozen=True, slots=True)
class OutputDraft:
    quantity: Decimal
    unit: str
    cost_share: Decimal | None = None


def allocate(total: Decimal, outputs: Sequence[OutputDraft]) -> list[Decimal]:
    """Each output's share of `total`, on scale, adding up to `total` exactly.

    Shared by `cost_share` when given (for every output, or none); otherwise by quantity,
    which needs every output in the same unit. Largest remainders take the odd cents.
    """
    if not outputs:
        raise AllocationError("a batch needs at least one output to carry its cost")
    shares = [o.cost_share for o in outputs]
    if any(share is not None for share in shares):
        if any(share is None for share in shares):
            raise AllocationError("give cost_share for every output, or for none")
        weights = [share for share in shares if share is not None]
        if sum(weights, ZERO) <= 0:
            raise AllocationError("cost shares must add up to more than zero")
    else:
        units = {o.unit for o in outputs}
        if len(units) > 1:
            raise AllocationError(
                "outputs in different units cannot share the cost by quantity: give each a "
                f"cost_share (units: {', '.join(sorted(units))})")
        weights = [o.quantity for o in outputs]
    return largest_remainder(on_scale(total), weights)


def largest_remainder(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`total` (on scale) split in proportion to `weights`, on scale, summing to `total`."""
    whole = sum(weights, ZERO)
    exact = [total * weight / whole for weight in weights]
    floors = [value.quantize(SCALE, rounding=ROUND_DOWN) for value in exact]
    left = int((total - sum(floors, ZERO)) / SCALE)
    order = sorted(range(len(weights)), key=lambda i: exact[i] - floors[i], reverse=True)
    for i in order[:left]:
        floors[i] += SCALE
    return floors


def unit_cost(cost: Decimal, quantity: Decimal) -> Decimal:
    """Cost per unit, as exact as a decimal allows: quantity x unit_cost rounds back to
    `cost` on scale, which is how inventory prices the lot it makes."""
    return tidy(cost / quantity)


# --- costing ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Costing:
    estimated_cost: Decimal | None
    actual_cost: Decimal | None
    cost_per_yield_unit: Decimal | None
    yield_quantity: Decimal | None
    yield_unit: str | None
    yield_is_actual: bool
    cost_per_portion: Decimal | None
    portions: Decimal | None
    portion_name: str | None
    variance: Decimal | None
    variance_percent: Decimal | None


def costing(*, estimated: Decimal | None, actual: Decimal | None,
            projected_yield: Decimal, projected_unit: str,
            actual_yield: Decimal | None, actual_unit: str | None,
            portion_count: Decimal | None, portion_name: str | None) -> Costing:
    """Planned against actual: the cost per unit of yield (the actual yield once finished,
    the projected one before), per portion, and the variance from the plan's estimate."""
    yield_is_actual = actual_yield is not None and actual_unit is not None
    quantity = actual_yield if yield_is_actual else projected_yield
    unit = actual_unit if yield_is_actual else projected_unit
    portions = portion_count
    if yield_is_actual and portion_name and actual_unit in (portion_name, "count"):
        portions = actual_yield  # made in portions: the portions actually made
    per_unit = on_scale(actual / quantity) if actual is not None and quantity else None
    per_portion = on_scale(actual / portions) if actual is not None and portions else None
    variance = percent = None
    if actual is not None and estimated is not None:
        variance = actual - estimated
        percent = (variance * 100 / estimated).quantize(Decimal("0.01")) if estimated else None
    return Costing(estimated, actual, per_unit, quantity, unit, yield_is_actual, per_portion,
                   portions, portion_name, variance, percent)


def split_base(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """A base quantity shared among variants in proportion to `weights`, summing exactly."""
    return largest_remainder(on_scale(total), weights)
