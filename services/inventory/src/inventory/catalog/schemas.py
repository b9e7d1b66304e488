"""Items at the HTTP edge: what a client may send, and the read model with computed stock."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

from inventory.catalog import domain
from inventory.units.schemas import UnitSymbol
from servicekit.decimals import Money, PositiveQuantity, Quantity
from servicekit.types import JsonDecimal

ItemType = Literal["ingredient", "container", "packaging", "consumable", "product"]
ConsumptionOrder = Literal["fifo", "fefo"]

Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=5000)]


def _count_unit(name: str) -> str:
    if problem := domain.count_unit_problem(name):
        raise ValueError(problem)
    return name


CountUnit = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_count_unit)]
Allergens = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=60)]],
    Field(max_length=40),
    AfterValidator(domain.normalize_allergens),
]
Nutrition = dict[Annotated[str, Field(min_length=1, max_length=60)], Quantity]
ShelfLife = Annotated[int, Field(ge=0, le=36_500)]
Sku = Annotated[str, Field(min_length=1, max_length=100)]
Size = Annotated[str, Field(min_length=1, max_length=100)]

_REQUEST = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ItemCreate(BaseModel):
    model_config = _REQUEST

    name: Name
    type: ItemType
    description: Text | None = None
    category_id: uuid.UUID | None = None
    supplier_id: uuid.UUID | None = None
    default_unit: UnitSymbol
    count_unit: CountUnit | None = Field(
        default=None, description='The item\'s own count unit ("bars", "cookies")')
    density_g_per_ml: PositiveQuantity | None = None
    allergens: Allergens = Field(default_factory=list)
    nutrition_per_100g: Nutrition | None = Field(default=None, max_length=60)
    low_stock_threshold: Quantity | None = Field(
        default=None, description="In the default unit; low when available <= threshold")
    shelf_life_days: ShelfLife | None = None
    consumption_order: ConsumptionOrder = "fifo"
    capacity: PositiveQuantity | None = Field(default=None, description="Containers only")
    capacity_unit: UnitSymbol | None = Field(default=None, description="Containers only")
    sku: Sku | None = Field(default=None, description="Products only; unique in the org")
    size: Size | None = Field(default=None, description="Products only")
    price: Money | None = Field(default=None, description="Products only")
    parent_item_id: uuid.UUID | None = Field(
        default=None, description="Makes this product a variant of that product")
    purchase_unit: UnitSymbol | None = Field(
        default=None, description="The unit of the pack the item is bought in (a 25 lb bag: "
                                  "lb); converts to the default unit")
    purchase_quantity: PositiveQuantity | None = Field(
        default=None, description="How much of purchase_unit one pack holds (25)")
    purchase_price: Money | None = Field(default=None, description="The price of one pack")


class ItemUpdate(BaseModel):
    """Only the fields sent change; null clears an optional field.

    The fields typed without `| None` may be left out but not set to null.
    """

    model_config = _REQUEST

    name: Name = None  # type: ignore[assignment]
    type: ItemType = None  # type: ignore[assignment]
    description: Text | None = None
    category_id: uuid.UUID | None = None
    supplier_id: uuid.UUID | None = None
    default_unit: UnitSymbol = None  # type: ignore[assignment]
    count_unit: CountUnit | None = None
    density_g_per_ml: PositiveQuantity | None = None
    allergens: Allergens = None  # type: ignore[assignment]
    nutrition_per_100g: Nutrition | None = Field(default=None, max_length=60)
    low_stock_threshold: Quantity | None = None
    shelf_life_days: ShelfLife | None = None
    consumption_order: ConsumptionOrder = None  # type: ignore[assignment]
    capacity: PositiveQuantity | None = None
    capacity_unit: UnitSymbol | None = None
    sku: Sku | None = None
    size: Size | None = None
    price: Money | None = None
    parent_item_id: uuid.UUID | None = None
    purchase_unit: UnitSymbol | None = None
    purchase_quantity: PositiveQuantity | None = None
    purchase_price: Money | None = None
    archived: bool = Field(default=None, description="false restores an archived item")  # type: ignore[assignment]


def item_values(body: ItemCreate | ItemUpdate) -> dict[str, Any]:
    """The fields a request sets, as the item's columns hold them (nutrition as JSON numbers)."""
    values = body.model_dump(exclude_unset=True)
    if values.get("nutrition_per_100g") is not None:
        values["nutrition_per_100g"] = _JSON_NUTRITION.dump_python(
            values["nutrition_per_100g"], mode="json")
    return values


_JSON_NUTRITION = TypeAdapter(dict[str, JsonDecimal])


class StockFigures(BaseModel):
    """Computed from the item's lots and active reservations, in its default unit."""

    on_hand: JsonDecimal = Field(description="Sum of the lots' remaining quantities")
    reserved: JsonDecimal = Field(description="Sum of active reservations")
    available: JsonDecimal = Field(description="on_hand - reserved; negative when oversold")
    low_stock: bool = Field(description="available <= low_stock_threshold (when one is set)")
    unit_cost: JsonDecimal | None = Field(
        description="FIFO cost basis: the unit cost of the oldest lot with stock left")
    stock_value: JsonDecimal = Field(description="Sum of remaining quantity x lot unit cost")


class ItemRead(StockFigures):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    type: ItemType
    description: str | None
    category_id: uuid.UUID | None
    supplier_id: uuid.UUID | None
    default_unit: str
    count_unit: str | None
    density_g_per_ml: JsonDecimal | None
    allergens: list[str]
    # As ItemChanged carries it: the numbers only, should a row hold anything else.
    nutrition_per_100g: Annotated[dict[str, JsonDecimal] | None,
                                  BeforeValidator(domain.nutrition_figures)]
    low_stock_threshold: JsonDecimal | None
    shelf_life_days: int | None
    consumption_order: ConsumptionOrder
    capacity: JsonDecimal | None
    capacity_unit: str | None
    sku: str | None
    size: str | None
    price: JsonDecimal | None
    parent_item_id: uuid.UUID | None
    purchase_unit: str | None
    purchase_quantity: JsonDecimal | None
    purchase_price: JsonDecimal | None
    archived: bool
    created_at: datetime
    updated_at: datetime


class VariantRead(BaseModel):
    """A product's variant, in seed 000's shape plus its size and availability."""

    id: uuid.UUID
    sku: str | None
    name: str
    size: str | None
    price: JsonDecimal | None
    current_stock: JsonDecimal
    reserved_stock: JsonDecimal
    available: JsonDecimal
    archived: bool


class StockAtLocation(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    location_id: uuid.UUID
    location_name: str
    kind: str
    is_default: bool
    on_hand: JsonDecimal
    reserved: JsonDecimal
    available: JsonDecimal
    stock_value: JsonDecimal


class StockTotals(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    on_hand: JsonDecimal
    reserved: JsonDecimal
    available: JsonDecimal
    stock_value: JsonDecimal


class ItemStockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_id: uuid.UUID
    unit: str = Field(description="The item's default unit, which every figure is in")
    locations: list[StockAtLocation]
    total: StockTotals


# Categories, suppliers and locations: what items and lots refer to.

LocationKind = Literal["workshop", "warehouse", "fba", "other"]
Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class CategoryCreate(BaseModel):
    model_config = _REQUEST

    name: Annotated[str, Field(min_length=1, max_length=120)]
    description: Text | None = None


class CategoryUpdate(BaseModel):
    model_config = _REQUEST

    name: Annotated[str, Field(min_length=1, max_length=120)] = None  # type: ignore[assignment]
    description: Text | None = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


class SupplierCreate(BaseModel):
    model_config = _REQUEST

    name: Name
    email: Email | None = None
    phone: Annotated[str, Field(max_length=50)] | None = None
    website: Annotated[str, Field(max_length=500)] | None = None
    notes: Text | None = None


class SupplierUpdate(BaseModel):
    model_config = _REQUEST

    name: Name = None  # type: ignore[assignment]
    email: Email | None = None
    phone: Annotated[str, Field(max_length=50)] | None = None
    website: Annotated[str, Field(max_length=500)] | None = None
    notes: Text | None = None


class SupplierRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    email: str | None
    phone: str | None
    website: str | None
    notes: str | None
    created_at: datetime
    updated_at: datetime


class LocationCreate(BaseModel):
    model_config = _REQUEST

    name: Annotated[str, Field(min_length=1, max_length=120)]
    kind: LocationKind = "workshop"
    is_default: bool = Field(
        default=False, description="The org's first location becomes the default anyway")


class LocationUpdate(BaseModel):
    model_config = _REQUEST

    name: Annotated[str, Field(min_length=1, max_length=120)] = None  # type: ignore[assignment]
    kind: LocationKind = None  # type: ignore[assignment]
    is_default: bool = Field(  # type: ignore[assignment]
        default=None, description="true makes this the default; another then stops being it")


class LocationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: LocationKind
    is_default: bool
    created_at: datetime
    updated_at: datetime
