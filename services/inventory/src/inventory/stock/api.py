"""Stock routes: parse, call one use case, answer. Writes take an optional Idempotency-Key."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime

from inventory.catalog.schemas import ItemType
from inventory.stock import adjustments, lots, purchases, reports
from inventory.stock.idempotency import Answer
from inventory.stock.ledger import MovementKind
from inventory.stock.schemas import (
    AdjustmentsRequest,
    AdjustmentsResult,
    ItemLots,
    LedgerCheck,
    LotMoveRequest,
    LotMoveResult,
    LotRead,
    MovementRead,
    PurchaseBillCreate,
    PurchaseBillRead,
    StockCheckRequest,
    StockCheckResult,
    Valuation,
    as_moment,
)
from servicekit.dependencies import CallerDep, UnitOfWorkDep
from servicekit.identity import READ_ONLY, require_role
from servicekit.pagination import Page, PageDep

router = APIRouter(prefix="/api/v1/inventory", tags=["stock"])

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200,
    description="Repeat a write safely: the same key and body get the first answer again")]


def _answer(answer: Answer) -> JSONResponse:
    return JSONResponse(answer.body, status_code=answer.status_code)


@router.post("/adjustments", response_model=AdjustmentsResult)
async def adjust_inventory(body: AdjustmentsRequest, caller: CallerDep, uow: UnitOfWorkDep,
                           idempotency_key: IdempotencyKey = None) -> JSONResponse:
    return _answer(await adjustments.adjust(uow, caller.org_id, caller.user_id, body,
                                            idempotency_key=idempotency_key))


@router.get("/items/{item_id}/lots", response_model=ItemLots)
async def list_item_lots(
    item_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep,
    include_empty: Annotated[bool, Query(description="Also lots used up")] = False,
) -> ItemLots:
    return await lots.item_lots(uow.session, caller.org_id, item_id,
                                include_empty=include_empty)


@router.get("/lots/{lot_id}", response_model=LotRead)
async def get_lot(lot_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> LotRead:
    return await lots.get_lot(uow.session, caller.org_id, lot_id)


@router.post("/lots/move", response_model=LotMoveResult)
async def move_lot(body: LotMoveRequest, caller: CallerDep, uow: UnitOfWorkDep,
                   idempotency_key: IdempotencyKey = None) -> JSONResponse:
    return _answer(await lots.move(uow, caller.org_id, caller.user_id, body,
                                   idempotency_key=idempotency_key))


@router.get("/movements")
async def list_movements(
    caller: CallerDep, uow: UnitOfWorkDep, page: PageDep,
    item_id: uuid.UUID | None = None, lot_id: uuid.UUID | None = None,
    kind: MovementKind | None = None, batch_id: uuid.UUID | None = None,
    date_from: Annotated[AwareDatetime | date | None,
                         Query(description="From this moment, or the start of this day")] = None,
    date_to: Annotated[AwareDatetime | date | None,
                       Query(description="Up to this moment, or the end of this day")] = None,
) -> Page[MovementRead]:
    filters = reports.MovementFilters(
        item_id=item_id, lot_id=lot_id, kind=kind, batch_id=batch_id,
        occurred_from=as_moment(date_from), occurred_before=_end(date_to))
    return await reports.movements(uow.session, caller.org_id, filters, page)


def _end(value: datetime | date | None) -> datetime | None:
    """The first moment after `value` (exclusive bound): a day's end is the next day's start."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    return datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC)


@router.post("/purchase-bills", status_code=status.HTTP_201_CREATED,
             response_model=PurchaseBillRead)
async def create_purchase_bill(body: PurchaseBillCreate, caller: CallerDep,
                               uow: UnitOfWorkDep,
                               idempotency_key: IdempotencyKey = None) -> JSONResponse:
    return _answer(await purchases.create_bill(uow, caller.org_id, caller.user_id, body,
                                               idempotency_key=idempotency_key))


@router.get("/purchase-bills")
async def list_purchase_bills(caller: CallerDep, uow: UnitOfWorkDep, page: PageDep,
                              supplier_id: uuid.UUID | None = None) -> Page[PurchaseBillRead]:
    return await purchases.list_bills(uow.session, caller.org_id, page, supplier_id=supplier_id)


@router.get("/purchase-bills/{bill_id}", response_model=PurchaseBillRead)
async def get_purchase_bill(bill_id: uuid.UUID, caller: CallerDep,
                            uow: UnitOfWorkDep) -> PurchaseBillRead:
    return await purchases.get_bill(uow.session, caller.org_id, bill_id)


@router.post("/stock-check", response_model=StockCheckResult, openapi_extra=READ_ONLY)
async def check_stock(body: StockCheckRequest, caller: CallerDep,
                      uow: UnitOfWorkDep) -> StockCheckResult:
    return await reports.check_stock(uow.session, caller.org_id, body)


@router.get("/valuation", response_model=Valuation)
async def get_valuation(caller: CallerDep, uow: UnitOfWorkDep, item_id: uuid.UUID | None = None,
                        type: ItemType | None = None) -> Valuation:
    return await reports.valuation(uow.session, caller.org_id, item_id=item_id, item_type=type)


@router.get("/ledger/check", response_model=LedgerCheck,
            dependencies=[require_role("owner", "manager")])
async def check_ledger(caller: CallerDep, uow: UnitOfWorkDep) -> LedgerCheck:
    """Recompute every lot and item from the movements alone and list any disagreement."""
    return await reports.check_ledger(uow.session, caller.org_id)
