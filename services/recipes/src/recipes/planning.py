"""Production planning: a recipe's plan snapshot for `POST /api/v1/batches/start`, and the
stock check makers ask before they start ("can I make this, and how many batches?")."""

from __future__ import annotations

import math
import uuid
from decimal import ROUND_CEILING, Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contracts import PlanContainer, PlanItemLine, PlanSnapshot, Portioning
from recipes.book import Book, ItemFacts, load_book
from recipes.costing import Coster, Costing, Need, multiplier_for
from recipes.editing import get_recipe
from recipes.inventory import InventoryDep
from recipes.problems import Problem
from recipes.schemas import ProblemRead, Request
from servicekit.db import utcnow
from servicekit.decimals import ZERO, PositiveQuantity, shown
from servicekit.dependencies import CallerDep, UnitOfWorkDep
from servicekit.errors import Conflict, ValidationFailed
from servicekit.identity import READ_ONLY
from servicekit.types import JsonDecimal

router = APIRouter(prefix="/api/v1", tags=["production planning"])


class PlanContainerWrite(Request):
    id: uuid.UUID = Field(description="The container item")
    quantity: PositiveQuantity


class PlanRequest(Request):
    scale: PositiveQuantity | None = Field(default=None, description="Batch-size factor")
    portions: PositiveQuantity | None = Field(
        default=None, description="Or: portions to make (yield units when not portioned)")
    containers: Annotated[list[PlanContainerWrite] | None, Field(max_length=50)] = Field(
        default=None, description="Containers to fill instead of the recipe's own")


class PlanBlocked(ValidationFailed):
    code = "PLAN_BLOCKED"
    default_message = "This recipe cannot be made until the problems listed are fixed"


class StockCheckRequest(Request):
    recipe_id: uuid.UUID
    scale_factor: PositiveQuantity = Decimal(1)


class StockLine(BaseModel):
    item_id: uuid.UUID
    item_name: str | None
    status: Literal["sufficient", "insufficient", "unknown"]
    needed_quantity: JsonDecimal
    available_quantity: JsonDecimal | None
    shortage: JsonDecimal
    expired_quantity: JsonDecimal | None
    unit: str
    batches_possible: int | None = Field(description="Whole batches this item alone allows")


class Shortage(BaseModel):
    item_id: uuid.UUID | None
    item_name: str | None
    reason: str  # insufficient | density_required | incompatible_units | unknown_item | ...
    message: str
    needed_quantity: JsonDecimal | None = None
    available_quantity: JsonDecimal | None = None
    unit: str | None = None
    fix: dict[str, Any] | None = None


class StockCheckResult(BaseModel):
    success: bool
    status: Literal["sufficient", "insufficient"]
    recipe_id: uuid.UUID
    recipe_version: int
    scale_factor: JsonDecimal
    items: list[StockLine]
    shortages: list[Shortage]
    drawer_payload: dict[str, Any] | None = Field(
        description="The first problem a person can fix in place (seed 000), with its fix")
    max_batches: int = Field(description="Whole batches at this scale the stock allows now")
    limiting_item: StockLine | None = Field(description="The item that limits max_batches")


@router.post("/recipes/{recipe_id}/plan", response_model=PlanSnapshot, openapi_extra=READ_ONLY)
async def plan_recipe(recipe_id: uuid.UUID, body: PlanRequest, caller: CallerDep,
                      uow: UnitOfWorkDep) -> JSONResponse:
    """A plan snapshot in seed 000's shape from the recipe's current version, sub-recipes
    expanded to stocked items, ready for `POST /api/v1/batches/start`."""
    if body.scale is not None and body.portions is not None:
        raise ValidationFailed("Give scale or portions, not both",
                               details={"fields": {"portions": ["give scale or portions"]}})
    recipe = await get_recipe(uow, caller.org_id, recipe_id)
    if recipe.archived:
        raise Conflict(f"{recipe.name} is archived; restore it to plan a batch")
    book = await load_book(uow.session, caller.org_id, [recipe_id])
    factor = multiplier_for(book.recipes[recipe_id], portions=body.portions,
                            multiplier=body.scale)
    coster = Coster(book)
    costing = coster.cost(recipe_id, factor)
    blocking = [problem for problem in costing.problems if problem.blocks_production]
    if blocking:
        raise PlanBlocked(details={"problems": [_problem(p) for p in blocking],
                                   "drawer_payload": _drawer(blocking)})
    plan = _snapshot(book, costing, coster.needs(recipe_id, factor), body.containers)
    # The contract dumps decimals as strings for events; the API shows plain numbers.
    return JSONResponse(jsonable_encoder(plan.model_dump()))


@router.post("/production/stock-check", response_model=StockCheckResult,
             openapi_extra=READ_ONLY)
async def check_production_stock(body: StockCheckRequest, caller: CallerDep,
                                 uow: UnitOfWorkDep,
                                 inventory: InventoryDep) -> StockCheckResult:
    """Whether stock covers the recipe at `scale_factor` (through sub-recipes, in converted
    units, net of reservations), the shortages with a fix where one helps, and how many
    batches the stock allows now with the item that limits it."""
    recipe = await get_recipe(uow, caller.org_id, body.recipe_id)
    book = await load_book(uow.session, caller.org_id, [recipe.id])
    coster = Coster(book)
    costing = coster.cost(recipe.id, body.scale_factor)
    blocking = [problem for problem in costing.problems if problem.blocks_production]
    shortages = [Shortage(item_id=p.item_id, item_name=_name(book, p.item_id),
                          reason=p.code, message=p.message, fix=p.fix) for p in blocking]
    needed = _needed_per_item(book, coster.needs(recipe.id, body.scale_factor))
    answer = await inventory.check_stock(
        [(item_id, quantity, book.items[item_id].default_unit)
         for item_id, quantity in needed.items()]) if needed else {"items": []}
    lines = [_stock_line(book, row) for row in answer["items"]]
    for line in lines:
        if line.status == "insufficient":
            shortages.append(Shortage(
                item_id=line.item_id, item_name=line.item_name, reason="insufficient",
                message=f"{line.shortage} {line.unit} more of {line.item_name} needed",
                needed_quantity=line.needed_quantity, available_quantity=line.available_quantity,
                unit=line.unit, fix=_restock_fix(line)))
    limiting = min((line for line in lines if line.batches_possible is not None),
                   key=lambda line: line.batches_possible or 0, default=None)
    max_batches = 0 if blocking or limiting is None else limiting.batches_possible or 0
    return StockCheckResult(
        success=not shortages, status="sufficient" if not shortages else "insufficient",
        recipe_id=recipe.id, recipe_version=recipe.version,
        scale_factor=shown(body.scale_factor), items=lines, shortages=shortages,
        drawer_payload=_drawer(blocking), max_batches=max_batches, limiting_item=limiting)


# --- plan snapshots ----------------------------------------------------------------------------

def _snapshot(book: Book, costing: Costing, needs: dict[tuple[uuid.UUID, str], Need],
              containers: list[PlanContainerWrite] | None) -> PlanSnapshot:
    recipe = costing.recipe
    plans: dict[str, list[PlanItemLine]] = {"ingredient": [], "consumable": []}
    planned_containers: list[PlanContainer] = []
    estimated, complete = ZERO, costing.cost_complete
    for need in needs.values():
        item = book.items[need.item_id]
        cost = _cost_of(item, need.default_quantity)
        if need.role == "container":
            if containers is None:
                count = need.default_quantity or next(iter(need.by_unit.values()))
                planned_containers.append(_container(item, count.to_integral_value(
                    rounding=ROUND_CEILING)))
            continue
        unit, quantity = _as_written(item, need)
        estimated += cost or ZERO
        plans[need.role].append(PlanItemLine(
            inventory_item_id=item.item_id, item_name=item.name, quantity=shown(quantity),
            unit=unit, estimated_cost=None if cost is None else shown(cost),
            estimated_unit_cost=None if cost is None else shown(cost / quantity)))
    for chosen in containers or ():
        item = book.items.get(chosen.id)
        planned_containers.append(_container(item, chosen.quantity, item_id=chosen.id))
    for container in planned_containers:
        if container.estimated_cost is None:
            complete = False
        estimated += container.estimated_cost or ZERO
    if not plans["ingredient"]:
        raise PlanBlocked("The recipe has no ingredients to plan")
    return PlanSnapshot(
        recipe_id=recipe.id, recipe_version=recipe.version, recipe_name=recipe.name,
        label_prefix=recipe.label_prefix, scale=shown(costing.multiplier),
        batch_type=recipe.batch_type,  # type: ignore[arg-type]
        output_item_id=recipe.output_item_id, projected_yield=shown(costing.yield_quantity),
        projected_yield_unit=recipe.yield_unit,
        portioning=Portioning(
            is_portioned=recipe.is_portioned, portion_name=recipe.portion_name,
            portion_count=(shown(recipe.portion_count * costing.multiplier)
                           if recipe.portion_count else None)),
        containers=tuple(planned_containers), ingredients_plan=tuple(plans["ingredient"]),
        consumables_plan=tuple(plans["consumable"]), estimated_cost=shown(estimated),
        cost_complete=complete, planned_at=utcnow(),
    )


def _as_written(item: ItemFacts, need: Need) -> tuple[str, Decimal]:
    """In the unit the recipes used when they agree on one, else in the item's own unit."""
    if len(need.by_unit) == 1:
        return next(iter(need.by_unit.items()))
    return item.default_unit, need.default_quantity  # type: ignore[return-value]


def _cost_of(item: ItemFacts | None, default_quantity: Decimal | None) -> Decimal | None:
    if item is None or default_quantity is None:
        return None
    per_unit, _ = item.cost_per_default_unit()
    return None if per_unit is None else default_quantity * per_unit


def _container(item: ItemFacts | None, count: Decimal, *,
               item_id: uuid.UUID | None = None) -> PlanContainer:
    if item is None:
        return PlanContainer(id=item_id, quantity=count)  # type: ignore[arg-type]
    try:
        default_quantity: Decimal | None = item.to_default_unit(count, "count")
    except ValidationFailed:
        raise ValidationFailed(f"{item.name} is not counted, so it cannot be a container",
                               details={"fields": {"containers": ["not a counted item"]}},
                               ) from None
    cost = _cost_of(item, default_quantity)
    return PlanContainer(id=item.item_id, name=item.name, quantity=shown(count),
                         estimated_cost=None if cost is None else shown(cost))


# --- stock checks ------------------------------------------------------------------------------

def _needed_per_item(book: Book, needs: dict[tuple[uuid.UUID, str], Need],
                     ) -> dict[uuid.UUID, Decimal]:
    needed: dict[uuid.UUID, Decimal] = {}
    for need in needs.values():
        if need.default_quantity is not None and need.item_id in book.items:
            needed[need.item_id] = needed.get(need.item_id, ZERO) + need.default_quantity
    return needed


def _stock_line(book: Book, row: dict[str, Any]) -> StockLine:
    item_id = uuid.UUID(row["item_id"])
    needed = Decimal(str(row["needed_quantity"]))
    available = Decimal(str(row["available_quantity"]))
    possible = math.floor(available / needed) if needed > 0 and available > 0 else 0
    return StockLine(
        item_id=item_id, item_name=row.get("item_name") or _name(book, item_id),
        status=row["status"], needed_quantity=needed, available_quantity=available,
        shortage=Decimal(str(row["shortage"])),
        expired_quantity=Decimal(str(row.get("expired_quantity") or 0)), unit=row["unit"],
        batches_possible=possible)


def _restock_fix(line: StockLine) -> dict[str, Any]:
    return {
        "action": "restock", "method": "POST", "path": "/api/v1/inventory/adjustments",
        "item_id": str(line.item_id), "quantity": str(line.shortage), "unit": line.unit,
        "message": f"Receive at least {line.shortage} {line.unit} of {line.item_name}",
    }


def _name(book: Book, item_id: uuid.UUID | None) -> str | None:
    item = book.items.get(item_id) if item_id else None
    return item.name if item else None


def _problem(problem: Problem) -> dict[str, Any]:
    return ProblemRead(code=problem.code, message=problem.message, recipe_id=problem.recipe_id,
                       item_id=problem.item_id, sub_recipe_id=problem.sub_recipe_id,
                       fix=problem.fix).model_dump(mode="json")


def _drawer(problems: list[Problem]) -> dict[str, Any] | None:
    fixable = next((problem for problem in problems if problem.fix), None)
    return None if fixable is None else _problem(fixable)
