"""Events published by the forecasting service."""

import uuid

from pydantic import AwareDatetime, Field

from contracts.base import Event


class ForecastCompleted(Event):
    """A forecast run finished and its results can be read from forecasting's API."""

    source_service = "forecasting"
    event_name = "ForecastCompleted"
    event_version = 1

    forecast_id: uuid.UUID
    item_ids: tuple[uuid.UUID, ...]
    horizon_days: int = Field(gt=0)
    method: str
    completed_at: AwareDatetime
