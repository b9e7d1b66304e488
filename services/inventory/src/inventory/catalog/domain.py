"""Catalog rules that need no database: what makes an item's fields consistent, and how an
item's reserved stock spreads over the locations holding it."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from servicekit import units

FieldErrors = dict[str, list[str]]

# Letters, single spaces between words: "bars", "gift boxes", "pièces".
COUNT_UNIT_PATTERN = r"^[^\W\d_]+( [^\W\d_]+)*$"
PRODUCT_ONLY = ("sku", "size", "price")
CONTAINER_ONLY = ("capacity", "capacity_unit")

_UNIT_WORDS = frozenset(
    word.casefold() for u in units.UNITS.values() for word in (u.symbol, u.name)
)


def count_unit_problem(name: str) -> str | None:
    """Why `name` cannot be an item's own count unit, if it cannot."""
    if not re.fullmatch(COUNT_UNIT_PATTERN, name):
        return "may contain only letters and single spaces"
    if name.casefold() in _UNIT_WORDS:
        return f"{name!r} is already a unit; a count unit needs a name of its own"
    return None


def normalize_allergens(allergens: Iterable[str]) -> list[str]:
    """Trimmed, lower-case, each once, in the order first given."""
    return list(dict.fromkeys(" ".join(a.split()).lower() for a in allergens))


def item_problems(item: Mapping[str, Any]) -> FieldErrors:
    """What is inconsistent in an item's complete set of fields (as created or as patched)."""
    errors: FieldErrors = defaultdict(list)
    kind = item["type"]
    count_unit = item.get("count_unit")  # its name is checked at the edge: count_unit_problem
    try:
        units.unit(item["default_unit"], units.ItemUnits(count_unit=count_unit))
    except units.UnknownUnit:
        errors["default_unit"].append(
            "must be a known unit (GET /api/v1/units) or the item's count_unit")

    capacity, capacity_unit = item.get("capacity"), item.get("capacity_unit")
    if kind != "container":
        for field in CONTAINER_ONLY:
            if item.get(field) is not None:
                errors[field].append("only containers have a capacity")
    elif (capacity is None) != (capacity_unit is None):
        missing = "capacity_unit" if capacity_unit is None else "capacity"
        errors[missing].append("capacity and capacity_unit are given together or not at all")
    if capacity_unit is not None and capacity_unit not in units.UNITS:
        errors["capacity_unit"].append("must be a known unit (GET /api/v1/units)")

    if kind != "product":
        for field in PRODUCT_ONLY:
            if item.get(field) is not None:
                errors[field].append(f"only products have a {field}")
        if item.get("parent_item_id") is not None:
            errors["parent_item_id"].append("only products can be variants of a product")
    return dict(errors)


def same_quantities(old_unit: str, old_count_unit: str | None,
                    new_unit: str, new_count_unit: str | None) -> bool:
    """Whether stock recorded in `old_unit` means the same amount in `new_unit` (bars and
    count, say), so an item's default unit may change while it holds stock."""
    before = units.unit(old_unit, units.ItemUnits(count_unit=old_count_unit))
    after = units.unit(new_unit, units.ItemUnits(count_unit=new_count_unit))
    return before.dimension == after.dimension and before.factor == after.factor


@dataclass(frozen=True, slots=True)
class LotStock:
    location_id: UUID
    quantity: Decimal


def reserved_by_location(lots_in_consumption_order: Sequence[LotStock], reserved: Decimal,
                         default_location_id: UUID | None) -> dict[UUID, Decimal]:
    """Spread an item's reserved quantity over its locations.

    Reservations name no location, so they are taken to hold the lots the item would be
    consumed from first (FIFO or FEFO order). What is reserved beyond the stock on hand (an
    oversold item) is put on the default location, so the locations add up to the total.
    """
    held: dict[UUID, Decimal] = defaultdict(Decimal)
    left = reserved
    for lot in lots_in_consumption_order:
        if left <= 0:
            break
        take = min(lot.quantity, left)
        held[lot.location_id] += take
        left -= take
    if left > 0 and default_location_id is not None:
        held[default_location_id] += left
    return dict(held)
