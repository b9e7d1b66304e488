"""Unit conversion with exact decimals.

Three dimensions: mass (base gram), volume (base millilitre) and count (base one). An item's
own count unit ("bars", "cookies") is a count. Mass and volume meet only through the item's
density in g/mL; without one a conversion between them is refused with a hint to set it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from servicekit.errors import ValidationFailed

Dimension = Literal["mass", "volume", "count"]


@dataclass(frozen=True, slots=True)
class Unit:
    symbol: str
    name: str
    dimension: Dimension
    factor: Decimal  # how many base units (g, mL, one) one of this is

    @property
    def is_base(self) -> bool:
        return self.factor == 1


UNITS: dict[str, Unit] = {u.symbol: u for u in (
    Unit("g", "gram", "mass", Decimal(1)),
    Unit("kg", "kilogram", "mass", Decimal(1000)),
    Unit("oz", "ounce", "mass", Decimal("28.349523125")),
    Unit("lb", "pound", "mass", Decimal("453.59237")),
    Unit("ml", "millilitre", "volume", Decimal(1)),
    Unit("l", "litre", "volume", Decimal(1000)),
    Unit("tsp", "teaspoon (US)", "volume", Decimal("4.92892159375")),
    Unit("tbsp", "tablespoon (US)", "volume", Decimal("14.78676478125")),
    Unit("cup", "cup (US)", "volume", Decimal("236.5882365")),
    Unit("floz", "fluid ounce (US)", "volume", Decimal("29.5735295625")),
    Unit("gal", "gallon (US)", "volume", Decimal("3785.411784")),
    Unit("drop", "drop", "volume", Decimal("0.05")),
    Unit("count", "count", "count", Decimal(1)),
    Unit("dozen", "dozen", "count", Decimal(12)),
)}


class UnknownUnit(ValidationFailed):
    code = "UNKNOWN_UNIT"
    default_message = "Unknown unit"


class IncompatibleUnits(ValidationFailed):
    code = "INCOMPATIBLE_UNITS"
    default_message = "These units cannot be converted into each other"


class DensityRequired(ValidationFailed):
    """Volume and weight meet only through a density: the item needs one."""

    code = "DENSITY_REQUIRED"
    default_message = "Converting between volume and weight needs the item's density"


@dataclass(frozen=True, slots=True)
class ItemUnits:
    """What of an item conversion needs."""

    item_id: str | None = None
    name: str | None = None
    density_g_per_ml: Decimal | None = None
    count_unit: str | None = None


def unit(symbol: str, item: ItemUnits | None = None) -> Unit:
    """The unit `symbol` names; an item's own count unit counts as `count`."""
    found = UNITS.get(symbol)
    if found is not None:
        return found
    if item is not None and item.count_unit and symbol == item.count_unit:
        return UNITS["count"]
    known = sorted(UNITS) + ([item.count_unit] if item and item.count_unit else [])
    raise UnknownUnit(f"Unknown unit {symbol!r}", details={"unit": symbol, "known_units": known})


def check_units(fields: Mapping[str, str], item: ItemUnits | None = None) -> None:
    """Refuse, in one error naming each field, the units among `fields` that are unknown."""
    bad = {field: symbol for field, symbol in fields.items()
           if symbol not in UNITS and not (item and item.count_unit == symbol)}
    if bad:
        known = sorted(UNITS) + ([item.count_unit] if item and item.count_unit else [])
        raise UnknownUnit(
            f"Unknown unit {', '.join(repr(s) for s in dict.fromkeys(bad.values()))}",
            details={"fields": {f: [f"unknown unit {s!r}"] for f, s in bad.items()},
                     "known_units": known})


def convert(quantity: Decimal, from_unit: str, to_unit: str,
            item: ItemUnits | None = None) -> Decimal:
    """`quantity` of `from_unit` in `to_unit`, exactly (no float anywhere)."""
    source, target = unit(from_unit, item), unit(to_unit, item)
    in_base = quantity * source.factor
    if source.dimension != target.dimension:
        in_base = _across(in_base, source, target, item)
    return in_base / target.factor


def factor(from_unit: str, to_unit: str, item: ItemUnits | None = None) -> Decimal:
    """How many `to_unit` one `from_unit` is."""
    return convert(Decimal(1), from_unit, to_unit, item)


def _across(in_base: Decimal, source: Unit, target: Unit, item: ItemUnits | None) -> Decimal:
    dimensions = {source.dimension, target.dimension}
    if dimensions != {"mass", "volume"}:
        raise IncompatibleUnits(
            f"{source.symbol} ({source.dimension}) cannot become {target.symbol} "
            f"({target.dimension})",
            details={"from_unit": source.symbol, "to_unit": target.symbol},
        )
    density = item.density_g_per_ml if item is not None else None
    if not density:
        raise DensityRequired(details=density_fix_hint(item))
    # grams = millilitres x density
    return in_base * density if source.dimension == "volume" else in_base / density


def density_fix_hint(item: ItemUnits | None) -> dict[str, Any]:
    """A machine-readable hint a client can turn into a fix: which item, what to set, where."""
    if item is None or item.item_id is None:
        return {"fix": {"action": "choose_item",
                        "message": "Name the item (item_id) so its density can be used"}}
    return {
        "item_id": item.item_id,
        "item_name": item.name,
        "fix": {
            "action": "set_density",
            "field": "density_g_per_ml",
            "method": "PATCH",
            "path": f"/api/v1/inventory/items/{item.item_id}",
            "message": f"Set the density (g/mL) of {item.name or 'this item'}",
        },
    }
