"""What can go wrong with a batch; servicekit's error handler turns these into HTTP."""

from __future__ import annotations

from decimal import Decimal

from servicekit.errors import Conflict, NotFound, ValidationFailed


def json_number(value: Decimal) -> int | float:
    """An exact decimal as a plain JSON number (error details are rendered without pydantic)."""
    return int(value) if value == value.to_integral_value() else float(value)


class BatchNotFound(NotFound):
    default_message = "Batch not found"


class BatchStateConflict(Conflict):
    default_message = "The batch is not in a state that allows this"


class StockInsufficient(Conflict):
    code = "STOCK_INSUFFICIENT"
    default_message = "Not enough stock to start the batch; nothing was deducted"


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was already used with a different request body"


class CostAllocationInvalid(ValidationFailed):
    default_message = "The products do not say how the batch's cost is to be shared"


class SplitInvalid(ValidationFailed):
    default_message = "The batch cannot be split this way"


class ContainerNotInBatch(ValidationFailed):
    default_message = "That container is not one of the batch's containers"
