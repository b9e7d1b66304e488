"""What can go wrong when stock moves; servicekit's error handler turns these into HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from servicekit.errors import Conflict, NotFound, ValidationFailed


def json_number(value: Decimal) -> int | float:
    """An exact decimal as a plain JSON number (error details are rendered without pydantic)."""
    return int(value) if value == value.to_integral_value() else float(value)


class StockInsufficient(Conflict):
    code = "STOCK_INSUFFICIENT"
    default_message = "Not enough stock"


class LotNotFound(NotFound):
    default_message = "Lot not found"


class LocationNotFound(NotFound):
    default_message = "Location not found"


class SupplierNotFound(NotFound):
    default_message = "Supplier not found"


class PurchaseBillNotFound(NotFound):
    default_message = "Purchase bill not found"


class LotOfAnotherItem(ValidationFailed):
    default_message = "The lot belongs to another item"


class QuantityOutOfRange(ValidationFailed):
    code = "QUANTITY_OUT_OF_RANGE"
    default_message = "The quantity is too large or too small to keep exactly"


class SameLocation(ValidationFailed):
    default_message = "The lot is already at that location"


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was already used with a different request body"


def at_line(error: Exception, index: int, field: str = "adjustments") -> Exception:
    """Name the request line an error belongs to (in its details) and hand it back."""
    details: dict[str, Any] | None = getattr(error, "details", None)
    if details is not None:
        details.setdefault("line", f"{field}.{index}")
    return error
