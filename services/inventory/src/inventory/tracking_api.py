"""Routes for reservations, counts and traceability: parse, call one use case, answer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, status
from fastapi.responses import JSONResponse

from inventory import counts, reservations, trace
from inventory.counts import CountCreate, CountLinesUpdate, CountRead, CountStatus, CountSummary
from inventory.reservations import (
    ReservationCreate,
    ReservationFulfilled,
    ReservationRead,
    ReservationStatus,
)
from inventory.trace import LotTrace, Recall
from servicekit.dependencies import CallerDep, UnitOfWorkDep
from servicekit.pagination import Page, PageDep

router = APIRouter(prefix="/api/v1/inventory")

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200,
    description="Repeat a write safely: the same key and body get the first answer again")]


# --- reservations ----------------------------------------------------------------------------

@router.post("/reservations", status_code=status.HTTP_201_CREATED,
             response_model=ReservationRead, tags=["reservations"])
async def create_reservation(body: ReservationCreate, caller: CallerDep, uow: UnitOfWorkDep,
                             idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Hold product stock for a customer (409 `STOCK_INSUFFICIENT` if not available)."""
    answer = await reservations.create_reservation(uow, caller.org_id, caller.user_id, body,
                                                   idempotency_key=idempotency_key)
    return JSONResponse(answer.body, status_code=answer.status_code)


@router.get("/reservations", tags=["reservations"])
async def list_reservations(
    caller: CallerDep, uow: UnitOfWorkDep, page: PageDep,
    status: Annotated[ReservationStatus | None, Query()] = None,
    item_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[ReservationRead]:
    return await reservations.list_reservations(uow.session, caller.org_id, page,
                                                status=status, item_id=item_id)


@router.get("/reservations/{reservation_id}", response_model=ReservationRead,
            tags=["reservations"])
async def get_reservation(reservation_id: uuid.UUID, caller: CallerDep,
                          uow: UnitOfWorkDep) -> ReservationRead:
    return await reservations.get_reservation(uow.session, caller.org_id, reservation_id)


@router.post("/reservations/{reservation_id}/release", response_model=ReservationRead,
             tags=["reservations"])
async def release_reservation(reservation_id: uuid.UUID, caller: CallerDep,
                              uow: UnitOfWorkDep) -> ReservationRead:
    return await reservations.release_reservation(uow, caller.org_id, caller.user_id,
                                                  reservation_id)


@router.post("/reservations/{reservation_id}/fulfill", response_model=ReservationFulfilled,
             tags=["reservations"])
async def fulfill_reservation(reservation_id: uuid.UUID, caller: CallerDep,
                              uow: UnitOfWorkDep) -> ReservationFulfilled:
    """Turn the reservation into a sale, FIFO from the product's lots."""
    return await reservations.fulfill_reservation(uow, caller.org_id, caller.user_id,
                                                  reservation_id)


# --- counts ----------------------------------------------------------------------------------

@router.post("/counts", status_code=status.HTTP_201_CREATED, response_model=CountRead,
             tags=["counts"])
async def create_count(body: CountCreate, caller: CallerDep, uow: UnitOfWorkDep) -> CountRead:
    """Open a count: a sheet of the lots in scope with what the books expect of each."""
    return await counts.create_count(uow, caller.org_id, body)


@router.get("/counts", tags=["counts"])
async def list_counts(caller: CallerDep, uow: UnitOfWorkDep, page: PageDep,
                      status: Annotated[CountStatus | None, Query()] = None,
                      ) -> Page[CountSummary]:
    return await counts.list_counts(uow.session, caller.org_id, page, status=status)


@router.get("/counts/{count_id}", response_model=CountRead, tags=["counts"])
async def get_count(count_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> CountRead:
    return await counts.get_count(uow.session, caller.org_id, count_id)


@router.put("/counts/{count_id}/lines", response_model=CountRead, tags=["counts"])
async def record_counts(count_id: uuid.UUID, body: CountLinesUpdate, caller: CallerDep,
                        uow: UnitOfWorkDep) -> CountRead:
    return await counts.record_counts(uow, caller.org_id, count_id, body)


@router.post("/counts/{count_id}/complete", response_model=CountRead, tags=["counts"])
async def complete_count(count_id: uuid.UUID, caller: CallerDep,
                         uow: UnitOfWorkDep) -> CountRead:
    """Apply each counted variance as a recount; answers with the variance report."""
    return await counts.complete_count(uow, caller.org_id, caller.user_id, count_id)


@router.post("/counts/{count_id}/cancel", response_model=CountRead, tags=["counts"])
async def cancel_count(count_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> CountRead:
    return await counts.cancel_count(uow, caller.org_id, count_id)


# --- traceability ----------------------------------------------------------------------------

@router.get("/trace/lots/{lot_id}", response_model=LotTrace, tags=["traceability"])
async def trace_lot(lot_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> LotTrace:
    """Where the lot went (batches, lots, orders) and where it came from (batches, lots,
    suppliers, purchase bills), through intermediate batches."""
    return await trace.trace_lot(uow.session, caller.org_id, lot_id)


@router.get("/trace/lots/{lot_id}/recall", response_model=Recall, tags=["traceability"])
async def recall(lot_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> Recall:
    """Orders already sold from affected lots, reservations to stop, stock to quarantine."""
    return await trace.recall(uow.session, caller.org_id, lot_id)


@router.post("/trace/lots/{lot_id}/recall/quarantine", response_model=Recall,
             tags=["traceability"])
async def quarantine(lot_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> Recall:
    """Quarantine every affected lot with stock; answers with the recall view."""
    return await trace.quarantine(uow, caller.org_id, lot_id)
