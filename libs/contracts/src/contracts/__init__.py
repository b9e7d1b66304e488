"""Smallbatch's published language: every event payload, registered by routing key."""

from contracts.base import EVENT_TYPES, Event, event_class
from contracts.batches import BatchCancelled, BatchFinished, BatchStarted
from contracts.forecasting import ForecastCompleted
from contracts.integrations import OrderCancelled, OrderReceived
from contracts.inventory import (
    ItemChanged,
    LowStockDetected,
    StockDeducted,
    StockDeductionFailed,
    StockLevelChanged,
    StockRestored,
)
from contracts.plans import PlanContainer, PlanItemLine, PlanSnapshot, Portioning
from contracts.recipes import RecipeChanged

__all__ = [
    "EVENT_TYPES",
    "BatchCancelled",
    "BatchFinished",
    "BatchStarted",
    "Event",
    "ForecastCompleted",
    "ItemChanged",
    "LowStockDetected",
    "OrderCancelled",
    "OrderReceived",
    "PlanContainer",
    "PlanItemLine",
    "PlanSnapshot",
    "Portioning",
    "RecipeChanged",
    "StockDeducted",
    "StockDeductionFailed",
    "StockLevelChanged",
    "StockRestored",
    "event_class",
]
