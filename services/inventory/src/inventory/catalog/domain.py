"""Catalog rules that need no database: what makes an item's fields consistent, and how an
item's reserved stock spreads over the locations holding it."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from servicekit import units

FieldErrors = dict[str, list[str]]

# Letters, single spaces between words: "bars", "gift boxes", "pièces".
COUNT_UNIT_PATTERN = r"^[^\W\d_]+( [^\W\d_]+)*$"
PRODUCT_ONLY = ("sku", "size", "price")
CONTAINER_ONLY = ("capacity", "capacity_unit")
PURCHASE_PACK = ("purchase_unit", "purchase_quantity", "purchase_price")
# What, besides the pack's own unit, decides whether a pack converts to the default unit.
PACK_BASIS = ("default_unit", "count_unit", "density_g_per_ml")

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


def purchase_pack_problems(item: Mapping[str, Any], changed: Iterable[str]) -> FieldErrors:
    """What is inconsistent in an item's purchase pack (`purchase_quantity` `purchase_unit` at
    `purchase_price`), given its complete set of fields and the ones a request `changed`.

    The unit must convert to the default unit, with the item's count unit and density. When a
    change of those (not of the pack) breaks the conversion, the changed fields are named:
    the change is refused rather than leaving a pack nothing can cost from.
    """
    errors: FieldErrors = defaultdict(list)
    pack_unit, quantity, price = (item.get(field) for field in PURCHASE_PACK)
    if (pack_unit is None) != (quantity is None):
        missing = "purchase_unit" if pack_unit is None else "purchase_quantity"
        errors[missing].append(
            "purchase_quantity and purchase_unit are given together or not at all")
    elif price is not None and pack_unit is None:
        errors["purchase_price"].append(
            "is the price of a pack: give purchase_quantity and purchase_unit with it")
    if pack_unit is not None and (problem := _pack_unit_problem(item)):
        changed = set(changed)
        blamed = [field for field in PACK_BASIS if field in changed]
        if not blamed or changed & {"purchase_unit", "purchase_quantity"}:
            blamed = ["purchase_unit"]
        for field in blamed:
            errors[field].append(problem)
    return dict(errors)


def pack_needs_density(item: Mapping[str, Any]) -> bool:
    """Whether the item's purchase pack converts to its default unit only through a density
    the item lacks (a pack by volume of an item kept by weight, or the other way round)."""
    if item.get("purchase_unit") is None or item.get("purchase_quantity") is None:
        return False
    try:
        _pack_in_default_unit(item)
    except units.DensityRequired:
        return True
    except (units.UnknownUnit, units.IncompatibleUnits):
        return False
    return False


def _pack_unit_problem(item: Mapping[str, Any]) -> str | None:
    pack_unit, default_unit = item["purchase_unit"], item["default_unit"]
    own = units.ItemUnits(count_unit=item.get("count_unit"))
    try:
        units.unit(default_unit, own)
    except units.UnknownUnit:
        return None  # item_problems names the default unit
    try:
        _pack_in_default_unit(item)
    except units.UnknownUnit:
        return (f"the purchase unit {pack_unit!r} is neither a known unit (GET /api/v1/units) "
                "nor the item's count_unit")
    except units.IncompatibleUnits:
        pack_dimension = units.unit(pack_unit, own).dimension
        default_dimension = units.unit(default_unit, own).dimension
        return (f"a pack in {pack_unit} ({pack_dimension}) cannot convert to the default unit "
                f"{default_unit} ({default_dimension})")
    except units.DensityRequired:
        return (f"a pack in {pack_unit} converts to the default unit {default_unit} only "
                "through the item's density_g_per_ml")
    return None


def _pack_in_default_unit(item: Mapping[str, Any]) -> Decimal:
    """One purchase unit in the default unit (raises where it does not convert)."""
    return units.convert(Decimal(1), item["purchase_unit"], item["default_unit"],
                         units.ItemUnits(density_g_per_ml=item.get("density_g_per_ml"),
                                         count_unit=item.get("count_unit")))


def nutrition_figures(stored: Mapping[str, Any] | None) -> dict[str, Decimal] | None:
    """An item's stored nutrition per 100 g as exact figures.

    The API stores only JSON numbers, read back as ints and floats (a float through its
    shortest repr, so 0.01 stays 0.01). The JSON column itself holds anything, though: an entry
    that is no finite number (text, a boolean, a list) is left out rather than failing the
    event; a number written as a string ("884") is kept, as events write decimals so.
    """
    if stored is None:
        return None
    figures: dict[str, Decimal] = {}
    for name, value in stored.items():
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            continue
        try:
            figure = Decimal(str(value))
        except InvalidOperation:
            continue
        if figure.is_finite():
            figures[name] = figure
    return figures


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
