"""Events published by the recipes service."""

import uuid

from pydantic import Field

from contracts.base import Event, Quantity, Unit


class RecipeChanged(Event):
    """A recipe was created, edited (a new `version`) or archived; carries its current state.
    Forecasting consumes it."""

    source_service = "recipes"
    event_name = "RecipeChanged"
    event_version = 1

    recipe_id: uuid.UUID
    version: int = Field(ge=1)
    name: str
    label_prefix: str
    yield_quantity: Quantity = Field(gt=0)
    yield_unit: Unit
    archived: bool = False
