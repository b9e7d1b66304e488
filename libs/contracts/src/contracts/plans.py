"""The plan snapshot: what recipes plans and batches starts (seed 000's `plan_snapshot`).

Recipes produces it from one version of a recipe, sub-recipes expanded to stocked items;
a client may keep, show or edit it, and `POST /api/v1/batches/start` takes it as the batch's
record of what it followed. Unknown fields are ignored, as with events.
"""

import uuid
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.base import Money, Quantity, Unit
from contracts.batches import BatchType


class PlanPart(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PlanItemLine(PlanPart):
    inventory_item_id: uuid.UUID
    item_name: str | None = None
    quantity: Quantity = Field(gt=0)
    unit: Unit
    estimated_unit_cost: Money | None = Field(default=None, ge=0)  # per `unit`
    estimated_cost: Money | None = Field(default=None, ge=0)


class PlanContainer(PlanPart):
    id: uuid.UUID  # the container item
    name: str | None = None
    quantity: Quantity = Field(gt=0)
    estimated_cost: Money | None = Field(default=None, ge=0)


class Portioning(PlanPart):
    is_portioned: bool = False
    portion_name: str | None = Field(default=None, max_length=50)
    portion_count: Quantity | None = Field(default=None, gt=0)


class PlanSnapshot(PlanPart):
    recipe_id: uuid.UUID
    recipe_version: int = Field(ge=1)
    recipe_name: str | None = None
    label_prefix: str | None = Field(default=None, max_length=12)
    scale: Quantity = Field(default=Decimal(1), gt=0)
    batch_type: BatchType = "product"
    # The item the batch yields: a product (batch_type product) or an intermediate ingredient.
    output_item_id: uuid.UUID | None = None
    projected_yield: Quantity = Field(gt=0)
    projected_yield_unit: Unit
    portioning: Portioning = Portioning()
    containers: tuple[PlanContainer, ...] = ()
    ingredients_plan: tuple[PlanItemLine, ...] = Field(min_length=1)
    consumables_plan: tuple[PlanItemLine, ...] = ()
    estimated_cost: Money | None = Field(default=None, ge=0)
    cost_complete: bool = True  # false when some line's cost was unknown at planning
    planned_at: AwareDatetime | None = None
