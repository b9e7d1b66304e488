"""Batch routes: parse, call one use case, answer. Starting (and cancelling, and splitting)
waits a bounded time for inventory's answer; writes take an optional Idempotency-Key."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, status
from fastapi.responses import JSONResponse

from batches import finishing, service, views
from batches.errors import StockInsufficient
from batches.inventory import InventoryDep
from batches.schemas import (
    BatchContainers,
    BatchRead,
    BatchStatus,
    BatchSummary,
    CancelRequest,
    ContainerAdjustmentCreate,
    ContainerAdjustmentRead,
    FinishRequest,
    InventorySummary,
    SplitRequest,
    SplitResult,
    StartedBatch,
    StartRequest,
)
from batches.waiting import await_answers, await_states
from servicekit.dependencies import CallerDep, UnitOfWorkDep
from servicekit.errors import ValidationFailed
from servicekit.pagination import Page, PageDep

router = APIRouter(prefix="/api/v1/batches", tags=["batches"])

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200,
    description="Repeat a write safely: the same key and body get the same batch (in its "
    "current state); never a second one")]
Prefer = Annotated[str | None, Header(
    description="RFC 7240: `wait=N` waits up to N seconds (capped) for inventory's answer; "
    "`respond-async` answers 202 at once")]

_WAITED = {
    status.HTTP_202_ACCEPTED: {"description": "Inventory has not answered yet: the batch as "
                               "it is now (`status: pending`); poll GET /{id}"},
}


def _located(body: dict[str, Any], status_code: int, batch_id: uuid.UUID) -> JSONResponse:
    return JSONResponse(body, status_code=status_code,
                        headers={"Location": f"/api/v1/batches/{batch_id}"})


@router.post(
    "/start", status_code=status.HTTP_201_CREATED, response_model=StartedBatch,
    responses={**_WAITED, status.HTTP_409_CONFLICT: {
        "description": "`STOCK_INSUFFICIENT`: nothing was deducted; the batch is `failed` and "
        "`error.details.shortages` names what is short"}},
    summary="Start a batch from a plan snapshot",
)
async def start_batch(body: StartRequest, caller: CallerDep, uow: UnitOfWorkDep,
                      request: Request, idempotency_key: IdempotencyKey = None,
                      prefer: Prefer = None) -> JSONResponse:
    """Stores the batch as `pending` and asks inventory for its stock (`BatchStarted`), then
    waits a bounded time for the answer: 201 with the batch `in_progress` (stock taken FIFO,
    lot by lot), 409 `STOCK_INSUFFICIENT` (batch `failed`, nothing taken) or 202 with the batch
    still `pending`. The code is `<PREFIX>-<YYYYMMDD>-<NN>`: the plan's label prefix (else the
    recipe name's initials, else BATCH), the UTC day and that day's sequence."""
    batch_id, fresh = await service.start_batch(uow, caller, body, idempotency_key)
    known = await await_answers(request, caller.org_id, [batch_id], prefer, fresh=fresh)
    # The batch as it is now, in one statement needing no transaction: every start pays it.
    async with uow.db.reading() as session:
        batch = await views.batch_read(session, caller.org_id, batch_id)
    if batch.status == "failed":
        raise StockInsufficient(details={
            "batch_id": str(batch.id), "batch_code": batch.code,
            "shortages": [s.model_dump(mode="json") for s in batch.shortages or []]})
    started = StartedBatch(
        **batch.model_dump(), batch_id=batch.id, success=True,
        message="Batch started successfully" if known else
        "Batch accepted; inventory has not answered yet")
    return _located(started.model_dump(mode="json"),
                    status.HTTP_201_CREATED if known else status.HTTP_202_ACCEPTED, batch_id)


@router.get("", response_model=Page[BatchSummary], summary="List batches")
async def list_batches(
    caller: CallerDep, uow: UnitOfWorkDep, page: PageDep,
    status_filter: Annotated[str | None, Query(
        alias="status", description="One status or several, comma-separated: pending, "
        "in_progress, failed, finished, cancelling, cancelled")] = None,
    recipe_id: uuid.UUID | None = None,
    date_from: Annotated[date | None, Query(description="From this UTC day (started)")] = None,
    date_to: Annotated[date | None, Query(description="To this UTC day, included")] = None,
    search: Annotated[str | None, Query(max_length=100,
                                        description="Part of the code or recipe name")] = None,
    parent_batch_id: Annotated[uuid.UUID | None, Query(
        description="Only the variants split from this batch")] = None,
) -> Page[BatchSummary]:
    statuses = _statuses(status_filter)
    return await views.list_batches(uow.session, caller.org_id, page, statuses=statuses,
                                    recipe_id=recipe_id, date_from=date_from, date_to=date_to,
                                    search=search, parent_batch_id=parent_batch_id)


def _statuses(value: str | None) -> list[BatchStatus] | None:
    if not value:
        return None
    known = set(BatchStatus.__args__)  # type: ignore[attr-defined]
    wanted = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [part for part in wanted if part not in known]
    if unknown:
        raise ValidationFailed(details={"fields": {"query.status": [
            f"unknown status {', '.join(unknown)}; one of {', '.join(sorted(known))}"]}})
    return wanted  # type: ignore[return-value]


@router.get("/{batch_id}", response_model=BatchRead, summary="A batch with its costing")
async def get_batch(batch_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> BatchRead:
    """The batch, its lines and outputs, and its costing: actual cost (FIFO), per unit of
    yield and per portion, the plan's estimate and the variance (absolute and %)."""
    return await views.batch_read(uow.session, caller.org_id, batch_id)


@router.post("/{batch_id}/finish", response_model=BatchRead, summary="Finish a batch")
async def finish_batch(batch_id: uuid.UUID, body: FinishRequest, caller: CallerDep,
                       uow: UnitOfWorkDep, inventory: InventoryDep,
                       idempotency_key: IdempotencyKey = None) -> BatchRead:
    """Records what the batch made (seed 000's `products`) and its waste, and has inventory
    make a lot of each product at its share of the batch's actual cost, the batch code as lot
    number (`-1`, `-2`... when products share an item). The cost is shared by quantity when
    every product is in one unit, else by each product's `cost_share`. Expiry: the product's
    `expires_at` or `shelf_life_days`, else the item's own shelf life (applied by inventory).
    Only a batch in progress can be finished."""
    await finishing.finish_batch(uow, caller, batch_id, body, inventory, idempotency_key)
    return await views.batch_read(uow.session, caller.org_id, batch_id)


@router.post("/{batch_id}/cancel", response_model=BatchRead, summary="Cancel a batch",
             responses={status.HTTP_202_ACCEPTED: {
                 "description": "Cancelling: the stock is on its way back (`cancelling`)"}})
async def cancel_batch(batch_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep,
                       request: Request,
                       body: Annotated[CancelRequest | None, Body()] = None,
                       idempotency_key: IdempotencyKey = None,
                       prefer: Prefer = None) -> JSONResponse:
    """Returns the batch's stock to the exact lots it came from (`BatchCancelled` ->
    `StockRestored`): 200 once `cancelled`, 202 while `cancelling`. A batch still pending is
    cancelled once inventory has answered its start. Finished, failed or cancelled: 409."""
    await service.cancel_batch(uow, caller, batch_id, body, idempotency_key)
    known = await await_states(
        request, caller.org_id, [batch_id], prefer,
        lambda states: all(s.status != "cancelling" for s in states.values()))
    batch = await views.batch_read(uow.session, caller.org_id, batch_id)
    return JSONResponse(batch.model_dump(mode="json"),
                        status_code=status.HTTP_200_OK if known else status.HTTP_202_ACCEPTED)


@router.get("/{batch_id}/inventory-summary", response_model=InventorySummary,
            summary="What the batch took from inventory, lot by lot")
async def inventory_summary(batch_id: uuid.UUID, caller: CallerDep,
                            uow: UnitOfWorkDep) -> InventorySummary:
    """Seed 000's batch inventory summary: each lot consumed with its quantity, unit cost and
    cost, grouped by item with totals."""
    return await views.inventory_summary(uow.session, caller.org_id, batch_id)


@router.get("/{batch_id}/containers", response_model=BatchContainers,
            summary="The batch's containers")
async def list_containers(batch_id: uuid.UUID, caller: CallerDep,
                          uow: UnitOfWorkDep) -> BatchContainers:
    """Each container the batch planned: the lots it was taken from at start, their cost, and
    the adjustments recorded since."""
    return await views.batch_containers(uow.session, caller.org_id, batch_id)


@router.post("/{batch_id}/containers", response_model=ContainerAdjustmentRead,
             status_code=status.HTTP_201_CREATED, summary="Record a container adjustment")
async def adjust_containers(batch_id: uuid.UUID, body: ContainerAdjustmentCreate,
                            caller: CallerDep, uow: UnitOfWorkDep) -> ContainerAdjustmentRead:
    """Seed 000's container adjust: containers `broken`, `extra_used` or `unused`, noted on the
    batch record. Stock moves for containers only at start; this moves none (correct stock
    with an inventory adjustment)."""
    adjustment = await service.adjust_containers(uow, caller, batch_id, body)
    return ContainerAdjustmentRead.model_validate(adjustment)


@router.post("/{batch_id}/split", response_model=SplitResult,
             status_code=status.HTTP_201_CREATED, summary="Split a finished batch into variants",
             responses={status.HTTP_202_ACCEPTED: {
                 "description": "Some variants are still waiting for inventory"}})
async def split_batch(batch_id: uuid.UUID, body: SplitRequest, caller: CallerDep,
                      uow: UnitOfWorkDep, request: Request, inventory: InventoryDep,
                      idempotency_key: IdempotencyKey = None,
                      prefer: Prefer = None) -> JSONResponse:
    """One soap base into three scents: each variant is a batch of its own (the parent's code
    with `-A`, `-B`...), linked to its parent, that takes its base quantity of the parent's
    output from inventory (FIFO, like any batch) and is finished with the variant product at
    the cost of what it took. A variant whose base is no longer in stock fails on its own."""
    ids, fresh = await finishing.split_batch(uow, caller, batch_id, body, inventory,
                                             idempotency_key)
    known = await await_answers(request, caller.org_id, ids, prefer, fresh=fresh)
    variants = [await views.batch_read(uow.session, caller.org_id, i) for i in ids]
    result = SplitResult(success=True, parent_batch_id=batch_id, variants=variants,
                         message="Batch split into variants" if known else
                         "Variants accepted; inventory has not answered for all of them yet")
    return JSONResponse(result.model_dump(mode="json"),
                        status_code=status.HTTP_201_CREATED if known
                        else status.HTTP_202_ACCEPTED)
