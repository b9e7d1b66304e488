"""Stock's requests and responses. Quantities are exact decimals inside, JSON numbers outside."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from inventory.stock.items import MAX_QUANTITY
from servicekit.types import JsonDecimal

MAX_UNIT_COST = Decimal(10) ** 9

Quantity = Annotated[Decimal, Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False)]
CountedQuantity = Annotated[Decimal, Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False)]
UnitCost = Annotated[Decimal, Field(ge=0, le=MAX_UNIT_COST, allow_inf_nan=False)]
UnitSymbol = Annotated[str, Field(min_length=1, max_length=32)]
LotNumber = Annotated[str, Field(min_length=1, max_length=100)]
Moment = AwareDatetime | date  # a date means the start of that day, UTC
AdjustmentType = Literal["restock", "spoil", "trash", "recount", "sale", "sale_return"]


def as_moment(value: datetime | date | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=UTC)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdjustmentLine(Request):
    inventory_id: uuid.UUID | None = Field(default=None, description="Seed 000's name for item_id")
    item_id: uuid.UUID | None = None
    adjustment_type: AdjustmentType
    quantity: CountedQuantity = Field(description="For a recount, the quantity counted")
    unit: UnitSymbol | None = Field(default=None, description="Defaults to the item's unit")
    cost_per_unit: UnitCost | None = Field(default=None, description="Per `unit` (restock)")
    expiration_date: Moment | None = None
    lot_number: LotNumber | None = None
    lot_id: uuid.UUID | None = Field(
        default=None, description="Required for recount; spoil, trash and sale take from it")
    location_id: uuid.UUID | None = None
    supplier_id: uuid.UUID | None = None
    reason: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _coherent(self) -> AdjustmentLine:
        if self.item_id is None and self.inventory_id is None:
            raise ValueError("name the item: item_id (or inventory_id)")
        if None not in (self.item_id, self.inventory_id) and self.item_id != self.inventory_id:
            raise ValueError("item_id and inventory_id name different items")
        if self.quantity == 0 and self.adjustment_type != "recount":
            raise ValueError("quantity must be greater than 0")
        if self.adjustment_type == "recount" and self.lot_id is None:
            raise ValueError("a recount names the lot that was counted (lot_id)")
        return self

    @property
    def target(self) -> uuid.UUID:
        target = self.item_id or self.inventory_id
        assert target is not None
        return target


class AdjustmentsRequest(Request):
    adjustments: list[AdjustmentLine] = Field(min_length=1, max_length=100)
    notes: str | None = Field(default=None, max_length=2000)


class MovementRead(BaseModel):
    id: int
    item_id: uuid.UUID
    lot_id: uuid.UUID | None
    lot_number: str | None = None
    location_id: uuid.UUID | None
    kind: str
    quantity: JsonDecimal
    unit: str
    unit_cost: JsonDecimal | None
    cost: JsonDecimal | None
    batch_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    purchase_bill_id: uuid.UUID | None = None
    related_lot_id: uuid.UUID | None = None
    actor: str | None = None
    reason: str | None = None
    occurred_at: datetime


class AdjustmentsData(BaseModel):
    adjustments_processed: int
    total_cost_change: JsonDecimal
    movements: list[MovementRead]


class AdjustmentsResult(BaseModel):
    success: Literal[True] = True
    message: str = "Inventory adjustments processed"
    data: AdjustmentsData


class LocationRef(BaseModel):
    id: uuid.UUID
    name: str


class LotRead(BaseModel):
    id: uuid.UUID
    item_id: uuid.UUID
    lot_number: str
    quantity_remaining: JsonDecimal
    quantity_received: JsonDecimal
    unit: str
    unit_cost: JsonDecimal
    received_at: datetime
    expires_at: datetime | None
    expired: bool
    quarantined: bool
    source: str
    location: LocationRef
    supplier_id: uuid.UUID | None
    purchase_bill_id: uuid.UUID | None
    batch_id: uuid.UUID | None


class ItemLots(BaseModel):
    """An item's lots in the order consumption takes them (seed 000's FIFO details)."""

    item_id: uuid.UUID
    item_name: str
    unit: str
    consumption_order: str
    total_on_hand: JsonDecimal
    total_available: JsonDecimal
    reserved: JsonDecimal
    lots: list[LotRead]


class LotMoveRequest(Request):
    lot_id: uuid.UUID
    quantity: Quantity
    unit: UnitSymbol | None = None
    to_location_id: uuid.UUID
    reason: str | None = Field(default=None, max_length=1000)


class LotMoveResult(BaseModel):
    from_lot: LotRead
    to_lot: LotRead
    quantity: JsonDecimal
    unit: str
    movements: list[MovementRead]


class PurchaseBillLineCreate(Request):
    item_id: uuid.UUID
    quantity: Quantity
    unit: UnitSymbol | None = None
    unit_cost: UnitCost = Field(description="Per `unit`")
    lot_number: LotNumber | None = None
    expires_at: Moment | None = None
    location_id: uuid.UUID | None = None


class PurchaseBillCreate(Request):
    supplier_id: uuid.UUID | None = None
    bill_number: str | None = Field(default=None, min_length=1, max_length=100)
    billed_at: Moment | None = None
    notes: str | None = Field(default=None, max_length=2000)
    lines: list[PurchaseBillLineCreate] = Field(min_length=1, max_length=200)


class PurchaseBillLineRead(BaseModel):
    id: uuid.UUID
    item_id: uuid.UUID
    lot_id: uuid.UUID
    lot_number: str
    quantity: JsonDecimal
    unit: str
    unit_cost: JsonDecimal
    line_cost: JsonDecimal
    expires_at: datetime | None


class PurchaseBillRead(BaseModel):
    id: uuid.UUID
    supplier_id: uuid.UUID | None
    bill_number: str | None
    billed_at: datetime
    total_cost: JsonDecimal
    notes: str | None
    created_by: str | None
    created_at: datetime
    lines: list[PurchaseBillLineRead]


class StockCheckLine(Request):
    item_id: uuid.UUID
    quantity_needed: Quantity
    unit: UnitSymbol | None = Field(default=None, description="Defaults to the item's unit")


class StockCheckRequest(Request):
    items: list[StockCheckLine] = Field(min_length=1, max_length=200)


class StockCheckItem(BaseModel):
    item_id: uuid.UUID
    item_name: str
    status: Literal["sufficient", "insufficient"]
    available_quantity: JsonDecimal
    needed_quantity: JsonDecimal
    shortage: JsonDecimal
    unit: str
    expired_quantity: JsonDecimal = Field(description="On hand but unusable: expired or held")


class StockCheckResult(BaseModel):
    overall_status: Literal["sufficient", "insufficient"]
    items: list[StockCheckItem]


class ValuationLayer(BaseModel):
    lot_id: uuid.UUID
    lot_number: str
    received_at: datetime
    expires_at: datetime | None
    expired: bool
    quantity: JsonDecimal
    unit_cost: JsonDecimal
    value: JsonDecimal


class ItemValuation(BaseModel):
    item_id: uuid.UUID
    item_name: str
    type: str
    unit: str
    quantity: JsonDecimal
    value: JsonDecimal
    layers: list[ValuationLayer]


class Valuation(BaseModel):
    as_of: datetime
    total_value: JsonDecimal
    items: list[ItemValuation]


class DiscrepancyRead(BaseModel):
    kind: Literal["lot", "item"]
    id: uuid.UUID
    recorded: JsonDecimal
    ledger: JsonDecimal


class LedgerCheck(BaseModel):
    consistent: bool
    discrepancies: list[DiscrepancyRead]


def dump(model: BaseModel) -> dict[str, Any]:
    """A response as the JSON the client receives (and an idempotent replay returns)."""
    return model.model_dump(mode="json")
