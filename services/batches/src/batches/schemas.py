"""Batches' requests and responses. Quantities are exact decimals inside, JSON numbers outside."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from contracts import PlanSnapshot
from servicekit.types import JsonDecimal

MAX_QUANTITY = Decimal(10) ** 12
MAX_MONEY = Decimal(10) ** 14
MAX_PLAN_LINES = 500

BatchStatus = Literal["pending", "in_progress", "failed", "finished", "cancelling", "cancelled"]
LineRole = Literal["ingredient", "consumable", "container"]
ContainerReason = Literal["broken", "extra_used", "unused"]
Quantity = Annotated[Decimal, Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False)]
Share = Annotated[Decimal, Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False)]
UnitSymbol = Annotated[str, Field(min_length=1, max_length=32)]
Notes = Annotated[str, Field(max_length=5000)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _exact(value: Decimal | None, where: str, limit: Decimal = MAX_QUANTITY) -> None:
    if value is None:
        return
    value = Decimal(value)  # a default (scale 1) arrives as an int
    if value > limit:
        raise ValueError(f"{where}: {value} is larger than {limit}")
    if value != 0 and int(value.normalize().as_tuple().exponent) < -8:
        raise ValueError(f"{where}: {value} has more than 8 decimal places")


class StartRequest(Request):
    plan_snapshot: PlanSnapshot = Field(
        description="Seed 000's plan snapshot, as `POST /api/v1/recipes/{id}/plan` makes it: "
        "the lines' quantities are what the batch takes (already scaled)")
    notes: Notes | None = None

    @field_validator("plan_snapshot")
    @classmethod
    def _storable(cls, plan: PlanSnapshot) -> PlanSnapshot:
        lines = [*plan.ingredients_plan, *plan.consumables_plan]
        if len(lines) + len(plan.containers) > MAX_PLAN_LINES:
            raise ValueError(f"a plan has at most {MAX_PLAN_LINES} lines")
        for name, group in (("ingredients_plan", plan.ingredients_plan),
                            ("consumables_plan", plan.consumables_plan)):
            for i, line in enumerate(group):
                _exact(line.quantity, f"{name}.{i}.quantity")
                _exact(line.estimated_cost, f"{name}.{i}.estimated_cost", MAX_MONEY)
        for i, container in enumerate(plan.containers):
            _exact(container.quantity, f"containers.{i}.quantity")
            if container.quantity != container.quantity.to_integral_value():
                raise ValueError(f"containers.{i}.quantity: containers are counted whole")
        _exact(plan.scale, "scale")
        _exact(plan.projected_yield, "projected_yield")
        _exact(plan.portioning.portion_count, "portioning.portion_count")
        _exact(plan.estimated_cost, "estimated_cost", MAX_MONEY)
        if not isinstance(plan.scale, Decimal):  # the contract's default is the int 1
            plan = plan.model_copy(update={"scale": Decimal(plan.scale)})
        return plan


class WasteIn(Request):
    quantity: Annotated[Decimal, Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False)]
    unit: UnitSymbol
    notes: Notes | None = None


class FinishedProduct(Request):
    product_sku_id: uuid.UUID | None = Field(
        default=None, description="The item made (a product SKU, or for an ingredient batch "
        "the intermediate item); defaults to the plan's output_item_id")
    quantity: Quantity
    unit: UnitSymbol | None = Field(default=None,
                                    description="Defaults to the plan's projected yield unit")
    notes: Notes | None = None
    cost_share: Share | None = Field(
        default=None, description="This product's share of the batch cost (any scale: "
        "shares are taken relative to their sum). Needed for every product when products "
        "are in different units; otherwise the cost is shared by quantity")
    expires_at: AwareDatetime | None = Field(
        default=None, description="The product lot's expiry. Without it (and without "
        "shelf_life_days), inventory applies the item's own shelf life")
    shelf_life_days: Annotated[int, Field(ge=0, le=36500)] | None = Field(
        default=None, description="Expiry as days after finishing")


class FinishRequest(Request):
    products: list[FinishedProduct] = Field(min_length=1, max_length=50)
    batch_notes: Notes | None = None
    waste: WasteIn | None = None


class CancelRequest(Request):
    reason: Notes | None = None


class ContainerAdjustmentCreate(Request):
    container_id: uuid.UUID
    quantity: Quantity
    reason: ContainerReason
    notes: Notes | None = None


class VariantIn(Request):
    output_item_id: uuid.UUID = Field(description="The variant's product item")
    quantity: Quantity = Field(description="How much of the variant is made")
    unit: UnitSymbol
    base_quantity: Quantity | None = Field(
        default=None, description="How much of the base batch's output goes into this "
        "variant, in the base's unit. Defaults to the base's yield shared by cost_share, or "
        "by quantity when every variant is in the same unit")
    cost_share: Share | None = None
    notes: Notes | None = None


class SplitRequest(Request):
    variants: list[VariantIn] = Field(min_length=1, max_length=26)
    notes: Notes | None = None


# --- responses -------------------------------------------------------------------------------

class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PortioningRead(Read):
    is_portioned: bool
    portion_name: str | None
    portion_count: JsonDecimal | None


class LineRead(Read):
    item_id: uuid.UUID
    item_name: str | None
    role: LineRole
    quantity: JsonDecimal
    unit: str
    estimated_cost: JsonDecimal | None


class ShortageRead(BaseModel):
    item_id: uuid.UUID
    item_name: str | None = None
    needed: JsonDecimal
    available: JsonDecimal
    unit: str
    reason: str


class OutputRead(Read):
    item_id: uuid.UUID
    quantity: JsonDecimal
    unit: str
    unit_cost: JsonDecimal
    cost: JsonDecimal
    cost_share: JsonDecimal | None
    lot_number: str
    expires_at: datetime | None
    notes: str | None


class WasteRead(BaseModel):
    quantity: JsonDecimal
    unit: str
    notes: str | None


class CostingRead(BaseModel):
    estimated_cost: JsonDecimal | None = Field(description="The plan's estimate at start")
    actual_cost: JsonDecimal | None = Field(
        description="What the lots taken cost (ingredients, consumables, containers), FIFO")
    cost_per_yield_unit: JsonDecimal | None
    yield_quantity: JsonDecimal | None
    yield_unit: str | None
    yield_is_actual: bool = Field(description="False while the projected yield stands in")
    cost_per_portion: JsonDecimal | None
    portions: JsonDecimal | None
    portion_name: str | None
    variance: JsonDecimal | None = Field(description="actual - estimated")
    variance_percent: JsonDecimal | None
    cost_complete: bool = Field(description="False when the plan's estimate missed a cost")


class VariantRef(BaseModel):
    id: uuid.UUID
    code: str
    status: BatchStatus


class BatchSummary(Read):
    id: uuid.UUID
    code: str
    status: BatchStatus
    batch_type: Literal["product", "ingredient"]
    recipe_id: uuid.UUID
    recipe_version: int
    recipe_name: str | None
    output_item_id: uuid.UUID | None
    scale: JsonDecimal
    projected_yield: JsonDecimal
    projected_yield_unit: str
    estimated_cost: JsonDecimal | None
    actual_cost: JsonDecimal | None
    yield_quantity: JsonDecimal | None
    yield_unit: str | None
    parent_batch_id: uuid.UUID | None
    notes: str | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None = Field(description="When its stock was taken (in_progress)")
    failed_at: datetime | None
    finished_at: datetime | None
    cancel_requested_at: datetime | None
    cancelled_at: datetime | None


class BatchRead(BatchSummary):
    portioning: PortioningRead
    lines: list[LineRead]
    shortages: list[ShortageRead] | None
    outputs: list[OutputRead]
    waste: WasteRead | None
    batch_notes: str | None
    cancel_reason: str | None
    costing: CostingRead
    variants: list[VariantRef]
    plan_snapshot: dict[str, Any]
    updated_at: datetime


class StartedBatch(BatchRead):
    """Seed 000's answer (`success`, `message`, `batch_id`) around the batch itself."""

    success: bool
    message: str
    batch_id: uuid.UUID


class SplitResult(BaseModel):
    success: bool
    message: str
    parent_batch_id: uuid.UUID
    variants: list[BatchRead]


class LotUse(BaseModel):
    lot_id: uuid.UUID
    lot_number: str
    quantity: JsonDecimal
    unit: str
    unit_cost: JsonDecimal
    cost: JsonDecimal


class ItemUse(BaseModel):
    item_id: uuid.UUID
    item_name: str | None
    role: LineRole
    unit: str
    quantity: JsonDecimal
    cost: JsonDecimal
    lots: list[LotUse]


class InventorySummary(BaseModel):
    batch_id: uuid.UUID
    batch_code: str
    status: BatchStatus
    items: list[ItemUse]
    total_cost: JsonDecimal


class ContainerAdjustmentRead(Read):
    id: uuid.UUID
    container_id: uuid.UUID
    quantity: JsonDecimal
    reason: ContainerReason
    notes: str | None
    created_by: str | None
    created_at: datetime


class ContainerUse(BaseModel):
    container_id: uuid.UUID
    name: str | None
    planned_quantity: JsonDecimal
    deducted_quantity: JsonDecimal = Field(description="Taken from stock at start")
    lots: list[LotUse]
    cost: JsonDecimal
    adjustments: list[ContainerAdjustmentRead]
    quantity_used: JsonDecimal = Field(
        description="Deducted (planned while none is) plus extra used and broken, less unused")


class BatchContainers(BaseModel):
    batch_id: uuid.UUID
    batch_code: str
    containers: list[ContainerUse]
    total_cost: JsonDecimal
