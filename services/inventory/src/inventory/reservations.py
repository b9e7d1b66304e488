"""Reservations: product stock promised to a customer, then released or turned into a sale.

A reservation pins no lot. It lowers the product's available quantity (what channels may sell
and batches may take) while it is active and unexpired; the sale that fulfils it takes FIFO
like any other sale. Holds and releases are in the ledger as lot-less movements carrying the
reserved quantity (`reservation_hold` negative, `reservation_release` positive, both with the
reservation's id). They are not on-hand kinds, so on-hand figures recomputed from the ledger
ignore them, while the audit trail says who promised how much to whom and when it ended.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import sqlalchemy as sa
from pydantic import AwareDatetime, BaseModel, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.models import Item, Reservation
from inventory.stock import idempotency, ledger
from inventory.stock.errors import StockInsufficient, json_number
from inventory.stock.idempotency import Answer
from inventory.stock.items import get_item, to_default_unit
from inventory.stock.levels import announce_changes, stock_levels
from inventory.stock.schemas import MovementRead, Quantity, Request, UnitSymbol, dump
from inventory.stock.views import movement_reads
from servicekit.db import UnitOfWork, utcnow
from servicekit.decimals import ZERO
from servicekit.errors import Conflict, NotFound, ValidationFailed
from servicekit.pagination import Page, PageParams
from servicekit.types import JsonDecimal

CREATE_ENDPOINT = "POST /api/v1/inventory/reservations"
ReservationStatus = Literal["active", "expired", "released", "sold"]


class ReservationNotFound(NotFound):
    default_message = "Reservation not found"


class ReservationNotActive(Conflict):
    code = "RESERVATION_NOT_ACTIVE"
    default_message = "The reservation was already released or sold"


class NotReservable(ValidationFailed):
    default_message = "Only products that are not archived can be reserved"


# --- schemas ---------------------------------------------------------------------------------

class ReservationCreate(Request):
    item_id: uuid.UUID | None = None
    product_sku_id: uuid.UUID | None = Field(default=None,
                                             description="Seed 000's name for item_id")
    quantity: Quantity
    unit: UnitSymbol | None = Field(default=None, description="Defaults to the item's unit")
    customer_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    order_reference: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    notes: str | None = Field(default=None, max_length=2000)
    expires_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_item(self) -> ReservationCreate:
        if self.item_id is None and self.product_sku_id is None:
            raise ValueError("name the product: item_id (or product_sku_id)")
        if None not in (self.item_id, self.product_sku_id) and (
                self.item_id != self.product_sku_id):
            raise ValueError("item_id and product_sku_id name different items")
        return self

    @property
    def target(self) -> uuid.UUID:
        target = self.item_id or self.product_sku_id
        assert target is not None
        return target


class ReservationRead(BaseModel):
    id: uuid.UUID
    item_id: uuid.UUID
    item_name: str
    sku: str | None
    quantity: JsonDecimal
    unit: str
    customer_name: str | None
    order_reference: str | None
    notes: str | None
    status: ReservationStatus
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ReservationFulfilled(BaseModel):
    reservation: ReservationRead
    movements: list[MovementRead]
    total_cost: JsonDecimal


# --- use cases -------------------------------------------------------------------------------

async def create_reservation(uow: UnitOfWork, org_id: uuid.UUID, actor: str,
                             request: ReservationCreate, *,
                             idempotency_key: str | None = None) -> Answer:
    """Hold product stock for a customer; the product's available stock must cover it."""
    claimed = await idempotency.claim(uow, org_id, idempotency_key, CREATE_ENDPOINT, request)
    if isinstance(claimed, Answer):
        return claimed
    now = utcnow()
    item = await get_item(uow.session, org_id, request.target)
    if item.type != "product" or item.archived:
        raise NotReservable(details={"item_id": str(item.id), "type": item.type,
                                     "archived": item.archived})
    quantity = to_default_unit(item, request.quantity, request.unit)
    if request.expires_at is not None and request.expires_at <= now:
        raise ValidationFailed(details={"fields": {"expires_at": ["must be in the future"]}})
    # Locking the product's lots queues this behind sales, batches and other reservations of
    # it, so two reservations cannot both count the same stock as available.
    await ledger.lock_lots(uow, org_id, [item.id])
    before = await stock_levels(uow.session, org_id, [item.id], now=now)
    available = before[item.id].available
    if available < quantity:
        raise _insufficient(item, quantity, available)
    reservation = Reservation(
        id=uuid.uuid4(), org_id=org_id, item_id=item.id, quantity=quantity,
        customer_name=request.customer_name, order_reference=request.order_reference,
        notes=request.notes, status="active", expires_at=request.expires_at,
        created_at=now, updated_at=now)
    uow.session.add(reservation)
    ledger.record(uow, org_id, item_id=item.id, kind="reservation_hold", quantity=-quantity,
                  provenance=_provenance(actor, reservation, "reserved"))
    await announce_changes(uow, org_id, [item], before, cause="reservation_created", now=now)
    answer = Answer(201, dump(_read(reservation, item, now)))
    await idempotency.remember(uow, claimed, answer)
    await uow.commit()
    return answer


async def release_reservation(uow: UnitOfWork, org_id: uuid.UUID, actor: str,
                              reservation_id: uuid.UUID) -> ReservationRead:
    """Give the held stock back to what is available."""
    now = utcnow()
    reservation, item = await _lock_active(uow, org_id, reservation_id)
    before = await stock_levels(uow.session, org_id, [item.id], now=now)
    reservation.status = "released"
    reservation.updated_at = now
    ledger.record(uow, org_id, item_id=item.id, kind="reservation_release",
                  quantity=reservation.quantity,
                  provenance=_provenance(actor, reservation, "released"))
    await announce_changes(uow, org_id, [item], before, cause="reservation_released", now=now)
    await uow.commit()
    return _read(reservation, item, now)


async def fulfill_reservation(uow: UnitOfWork, org_id: uuid.UUID, actor: str,
                              reservation_id: uuid.UUID) -> ReservationFulfilled:
    """Sell what was held: FIFO from the product's usable lots, leaving other customers'
    reservations covered. All or nothing: 409 `STOCK_INSUFFICIENT` if the stock is gone."""
    now = utcnow()
    reservation, item = await _lock_active(uow, org_id, reservation_id)
    await ledger.lock_lots(uow, org_id, [item.id])
    before = await stock_levels(uow.session, org_id, [item.id], now=now)
    # The levels count this reservation among the reserved unless it has expired.
    own = ZERO if _expired(reservation, now) else reservation.quantity
    consumption = await ledger.consume(
        uow, org_id, item, reservation.quantity, kind="sale", lock=False, now=now,
        keep=max(before[item.id].reserved - own, ZERO),
        provenance=_provenance(actor, reservation, "sold"))
    reservation.status = "sold"
    reservation.updated_at = now
    ledger.record(uow, org_id, item_id=item.id, kind="reservation_release",
                  quantity=reservation.quantity,
                  provenance=_provenance(actor, reservation, "sold, hold ends"))
    await announce_changes(uow, org_id, [item], before, cause="reservation_fulfilled", now=now)
    await uow.session.flush()
    result = ReservationFulfilled(
        reservation=_read(reservation, item, now),
        movements=await movement_reads(uow.session, consumption.movements),
        total_cost=consumption.cost)
    await uow.commit()
    return result


async def get_reservation(session: AsyncSession, org_id: uuid.UUID,
                          reservation_id: uuid.UUID) -> ReservationRead:
    row = (await session.execute(
        sa.select(Reservation, Item).join(Item, Item.id == Reservation.item_id)
        .where(Reservation.org_id == org_id, Reservation.id == reservation_id))).first()
    if row is None:
        raise ReservationNotFound(details={"reservation_id": str(reservation_id)})
    return _read(row[0], row[1], utcnow())


async def list_reservations(session: AsyncSession, org_id: uuid.UUID, params: PageParams, *,
                            status: ReservationStatus | None = None,
                            item_id: uuid.UUID | None = None) -> Page[ReservationRead]:
    """Newest first. `active` means held now; `expired` means active but past its expiry."""
    now = utcnow()
    query = (sa.select(Reservation, Item).join(Item, Item.id == Reservation.item_id)
             .where(Reservation.org_id == org_id))
    if item_id is not None:
        query = query.where(Reservation.item_id == item_id)
    if status is not None:
        query = query.where(_status_is(status, now))
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(query.with_only_columns(Reservation.id).subquery()))
    rows = await session.execute(query.order_by(Reservation.created_at.desc(), Reservation.id)
                                 .limit(params.per_page).offset(params.offset))
    return Page.build([_read(r, item, now) for r, item in rows], int(total or 0), params)


async def open_reservations(session: AsyncSession, org_id: uuid.UUID,
                            item_ids: set[uuid.UUID]) -> list[ReservationRead]:
    """The reservations holding stock of these items now (for a recall to stop)."""
    if not item_ids:
        return []
    now = utcnow()
    rows = await session.execute(
        sa.select(Reservation, Item).join(Item, Item.id == Reservation.item_id)
        .where(Reservation.org_id == org_id, Reservation.item_id.in_(item_ids),
               _status_is("active", now))
        .order_by(Reservation.created_at, Reservation.id))
    return [_read(r, item, now) for r, item in rows]


# --- helpers ---------------------------------------------------------------------------------


async def _lock_active(uow: UnitOfWork, org_id: uuid.UUID,
                       reservation_id: uuid.UUID) -> tuple[Reservation, Item]:
    """The reservation, locked (a concurrent release or sale of it waits, then finds it
    ended), and its item; only an active one (expired included) may change."""
    query = sa.select(Reservation).where(Reservation.org_id == org_id,
                                         Reservation.id == reservation_id)
    if not uow.db.is_sqlite:
        query = query.with_for_update()
    reservation = await uow.session.scalar(query.execution_options(populate_existing=True))
    if reservation is None:
        raise ReservationNotFound(details={"reservation_id": str(reservation_id)})
    if reservation.status != "active":
        raise ReservationNotActive(
            f"The reservation is already {reservation.status}",
            details={"reservation_id": str(reservation.id), "status": reservation.status})
    return reservation, await get_item(uow.session, org_id, reservation.item_id)


def _provenance(actor: str, reservation: Reservation, what: str) -> ledger.Provenance:
    whom = f" for {reservation.customer_name}" if reservation.customer_name else ""
    ref = f" ({reservation.order_reference})" if reservation.order_reference else ""
    return ledger.Provenance(actor=actor, reason=f"reservation{whom}{ref}: {what}",
                             reservation_id=reservation.id)


def _expired(reservation: Reservation, now: datetime) -> bool:
    return reservation.expires_at is not None and reservation.expires_at <= now


def _status_is(status: ReservationStatus, now: datetime) -> sa.ColumnElement[bool]:
    unexpired = sa.or_(Reservation.expires_at.is_(None), Reservation.expires_at > now)
    if status == "active":
        return sa.and_(Reservation.status == "active", unexpired)
    if status == "expired":
        return sa.and_(Reservation.status == "active", sa.not_(unexpired))
    return Reservation.status == status


def _read(reservation: Reservation, item: Item, now: datetime) -> ReservationRead:
    status = reservation.status
    if status == "active" and _expired(reservation, now):
        status = "expired"
    return ReservationRead(
        id=reservation.id, item_id=item.id, item_name=item.name, sku=item.sku,
        quantity=reservation.quantity, unit=item.default_unit,
        customer_name=reservation.customer_name, order_reference=reservation.order_reference,
        notes=reservation.notes, status=status,  # type: ignore[arg-type]
        expires_at=reservation.expires_at, created_at=reservation.created_at,
        updated_at=reservation.updated_at)


def _insufficient(item: Item, needed: Decimal, available: Decimal) -> StockInsufficient:
    return StockInsufficient(
        f"Not enough {item.name} to reserve: {needed} {item.default_unit} wanted, "
        f"{max(available, ZERO)} available",
        details={"item_id": str(item.id), "item_name": item.name, "unit": item.default_unit,
                 "needed": json_number(needed), "available": json_number(available),
                 "shortage": json_number(needed - available)})
