from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from servicekit.types import JsonDecimal


class ItemViewRead(BaseModel):
    """An inventory item as recipes sees it (read-only; inventory owns items)."""

    model_config = ConfigDict(from_attributes=True)

    item_id: uuid.UUID
    name: str
    type: str
    default_unit: str
    sku: str | None
    density_g_per_ml: JsonDecimal | None
    unit_cost: JsonDecimal | None
    allergens: list[str]
    archived: bool
    updated_at: datetime
