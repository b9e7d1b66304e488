"""Events published by the batches service: the producing side of the batch saga."""

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from contracts.base import Event, EventPart, Money, Quantity, Unit

BatchType = Literal["product", "ingredient"]


class BatchLine(EventPart):
    item_id: uuid.UUID
    quantity: Quantity = Field(gt=0)
    unit: Unit
    role: Literal["ingredient", "consumable", "container"]


class BatchStarted(Event):
    """A batch was planned and is waiting for its stock; inventory deducts the lines all or
    nothing and replies `StockDeducted` or `StockDeductionFailed`."""

    source_service = "batches"
    event_name = "BatchStarted"
    event_version = 1

    batch_id: uuid.UUID
    batch_code: str
    recipe_id: uuid.UUID
    recipe_version: int = Field(ge=1)
    batch_type: BatchType
    lines: tuple[BatchLine, ...] = Field(min_length=1)


class BatchOutput(EventPart):
    item_id: uuid.UUID
    quantity: Quantity = Field(gt=0)
    unit: Unit
    unit_cost: Money = Field(ge=0)  # the batch's actual FIFO cost over its yield
    lot_number: str
    expires_at: AwareDatetime | None = None


class Waste(EventPart):
    quantity: Quantity = Field(ge=0)
    unit: Unit


class BatchFinished(Event):
    """A batch was finished; inventory creates a lot for each output."""

    source_service = "batches"
    event_name = "BatchFinished"
    event_version = 1

    batch_id: uuid.UUID
    batch_code: str
    batch_type: BatchType
    outputs: tuple[BatchOutput, ...]
    waste: Waste | None = None
    total_cost: Money = Field(ge=0)


class BatchCancelled(Event):
    """A batch was cancelled; inventory returns its unused stock to the exact lots it came
    from and replies `StockRestored`."""

    source_service = "batches"
    event_name = "BatchCancelled"
    event_version = 1

    batch_id: uuid.UUID
    batch_code: str
    reason: str | None = None
