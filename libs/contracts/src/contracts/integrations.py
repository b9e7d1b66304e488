"""Events published by the integrations service: orders from the sales channels."""

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from contracts.base import Event, EventPart, Money, Quantity


class OrderLine(EventPart):
    sku: str
    quantity: Quantity = Field(gt=0)
    unit_price: Money | None = Field(default=None, ge=0)


class OrderReceived(Event):
    """A channel order arrived (Shopify webhook or polled Amazon order), once per order.
    Inventory deducts product stock by SKU; forecasting records the sale."""

    source_service = "integrations"
    event_name = "OrderReceived"
    event_version = 1

    order_id: uuid.UUID
    channel_id: uuid.UUID
    channel_type: Literal["shopify", "amazon"]
    external_order_id: str
    placed_at: AwareDatetime
    lines: tuple[OrderLine, ...]


class OrderCancelled(Event):
    """A channel order was cancelled; inventory puts the stock back, forecasting drops the
    sale. Without `lines` the whole order is cancelled."""

    source_service = "integrations"
    event_name = "OrderCancelled"
    event_version = 1

    order_id: uuid.UUID
    channel_id: uuid.UUID
    external_order_id: str
    lines: tuple[OrderLine, ...] | None = None
