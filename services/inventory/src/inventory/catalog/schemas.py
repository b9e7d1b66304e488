from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ItemType = Literal["ingredient", "container", "packaging", "consumable", "product"]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    type: ItemType
    default_unit: str = Field(min_length=1, max_length=32)


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    type: ItemType
    default_unit: str
    created_at: datetime
    updated_at: datetime
