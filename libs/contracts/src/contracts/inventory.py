"""Events published by the inventory service."""

import uuid
from typing import Literal

from pydantic import Field

from contracts.base import Event, EventPart, Money, Quantity, Unit

ItemType = Literal["ingredient", "container", "packaging", "consumable", "product"]


class ItemChanged(Event):
    """An item was created, edited or archived; carries its full current state.

    Recipes keep a read model of items from it; forecasting and integrations follow names,
    SKUs and archiving.
    """

    source_service = "inventory"
    event_name = "ItemChanged"
    event_version = 1

    item_id: uuid.UUID
    name: str
    type: ItemType
    sku: str | None = None
    default_unit: Unit
    count_unit: Unit | None = None  # the item's own count unit ("bars"), a count
    density_g_per_ml: Quantity | None = Field(default=None, gt=0)
    unit_cost: Money | None = Field(default=None, ge=0)  # per default_unit
    allergens: tuple[str, ...] = ()
    shelf_life_days: int | None = Field(default=None, ge=0)
    low_stock_threshold: Quantity | None = Field(default=None, ge=0)
    archived: bool = False
    category_name: str | None = None
    supplier_name: str | None = None
    nutrition_per_100g: dict[str, Quantity] | None = None  # e.g. {"calories": 884, "fat_g": 100}
    # How the item is bought: packs of `purchase_quantity` `purchase_unit` at `purchase_price`.
    purchase_unit: Unit | None = None
    purchase_quantity: Quantity | None = Field(default=None, gt=0)
    purchase_price: Money | None = Field(default=None, ge=0)


class ConsumptionLine(EventPart):
    item_id: uuid.UUID
    lot_id: uuid.UUID
    lot_number: str
    quantity: Quantity = Field(gt=0)
    unit: Unit
    unit_cost: Money = Field(ge=0)
    cost: Money = Field(ge=0)


class StockDeducted(Event):
    """Inventory took a started batch's stock, lot by lot in FIFO order (reply to
    `BatchStarted`); batches records the consumption and cost and moves the batch on."""

    source_service = "inventory"
    event_name = "StockDeducted"
    event_version = 1

    batch_id: uuid.UUID
    consumption: tuple[ConsumptionLine, ...]
    total_cost: Money = Field(ge=0)


ShortageReason = Literal["insufficient", "expired_lots_only", "unknown_item", "density_required"]


class Shortage(EventPart):
    item_id: uuid.UUID
    needed: Quantity = Field(gt=0)
    available: Quantity  # negative when sales have oversold the item
    unit: Unit
    reason: ShortageReason


class StockDeductionFailed(Event):
    """Inventory could not cover a started batch and deducted nothing (reply to
    `BatchStarted`); batches marks the batch failed with these shortages."""

    source_service = "inventory"
    event_name = "StockDeductionFailed"
    event_version = 1

    batch_id: uuid.UUID
    shortages: tuple[Shortage, ...] = Field(min_length=1)


class RestorationLine(EventPart):
    item_id: uuid.UUID
    lot_id: uuid.UUID
    quantity: Quantity = Field(gt=0)
    unit: Unit


class StockRestored(Event):
    """A cancelled batch's unused stock went back to the lots it came from (reply to
    `BatchCancelled`)."""

    source_service = "inventory"
    event_name = "StockRestored"
    event_version = 1

    batch_id: uuid.UUID
    restorations: tuple[RestorationLine, ...]


class StockLevelChanged(Event):
    """An item's stock level moved, for any reason; integrations pushes `available` to every
    channel the SKU is mapped to."""

    source_service = "inventory"
    event_name = "StockLevelChanged"
    event_version = 1

    item_id: uuid.UUID
    sku: str | None = None
    on_hand: Quantity
    reserved: Quantity = Field(ge=0)
    available: Quantity
    unit: Unit
    cause: str  # what moved it, e.g. "batch_started", "order_received", "adjustment"


class LowStockDetected(Event):
    """An item's available stock fell to or below its low-stock threshold."""

    source_service = "inventory"
    event_name = "LowStockDetected"
    event_version = 1

    item_id: uuid.UUID
    name: str
    available: Quantity
    threshold: Quantity = Field(ge=0)
    unit: Unit
