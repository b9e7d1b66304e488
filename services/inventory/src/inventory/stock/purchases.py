"""Purchase bills (seed 004): a supplier's bill whose lines each receive a lot."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.catalog.service import ItemNotFound
from inventory.models import Lot, PurchaseBill, PurchaseBillLine
from inventory.stock import idempotency, ledger
from inventory.stock.errors import PurchaseBillNotFound, at_line
from inventory.stock.idempotency import Answer
from inventory.stock.items import (
    checked_money,
    cost_per_default_unit,
    items_by_id,
    to_default_unit,
)
from inventory.stock.levels import announce_changes, stock_levels
from inventory.stock.locations import check_supplier, location_or_default
from inventory.stock.schemas import (
    PurchaseBillCreate,
    PurchaseBillLineRead,
    PurchaseBillRead,
    as_moment,
    dump,
)
from servicekit.db import UnitOfWork, utcnow
from servicekit.decimals import ZERO
from servicekit.errors import DomainError
from servicekit.pagination import Page, PageParams

ENDPOINT = "POST /api/v1/inventory/purchase-bills"


async def create_bill(uow: UnitOfWork, org_id: uuid.UUID, actor: str,
                      request: PurchaseBillCreate, *,
                      idempotency_key: str | None = None) -> Answer:
    claimed = await idempotency.claim(uow, org_id, idempotency_key, ENDPOINT, request)
    if isinstance(claimed, Answer):
        return claimed
    now = utcnow()
    await check_supplier(uow.session, org_id, request.supplier_id)
    items = await items_by_id(uow.session, org_id, (line.item_id for line in request.lines))
    before = await stock_levels(uow.session, org_id, items, now=now)
    bill = PurchaseBill(id=uuid.uuid4(), org_id=org_id, supplier_id=request.supplier_id,
                        bill_number=request.bill_number,
                        billed_at=as_moment(request.billed_at) or now, total_cost=ZERO,
                        notes=request.notes, created_by=actor, created_at=now, updated_at=now)
    uow.session.add(bill)
    provenance = ledger.Provenance(actor=actor, reason=request.notes, purchase_bill_id=bill.id)
    total = ZERO
    for index, line in enumerate(request.lines):
        try:
            item = items.get(line.item_id)
            if item is None:
                raise ItemNotFound(details={"item_id": str(line.item_id)})
            quantity = to_default_unit(item, line.quantity, line.unit)
            line_cost = checked_money(line.quantity * line.unit_cost, "line_cost")
            location = await location_or_default(uow, org_id, line.location_id)
            lot, _ = ledger.receive(
                uow, org_id, item, quantity,
                unit_cost=cost_per_default_unit(item, line.unit_cost, line.unit),
                location_id=location.id, provenance=provenance, kind="purchase",
                lot_number=line.lot_number, received_at=now,
                expires_at=as_moment(line.expires_at), supplier_id=request.supplier_id,
                purchase_bill_id=bill.id, cost=line_cost,
            )
        except DomainError as error:
            raise at_line(error, index, "lines") from None
        uow.session.add(PurchaseBillLine(
            id=uuid.uuid4(), org_id=org_id, bill_id=bill.id, item_id=item.id, lot_id=lot.id,
            quantity=line.quantity, unit=line.unit or item.default_unit,
            unit_cost=line.unit_cost, line_cost=line_cost,
        ))
        total += line_cost
    bill.total_cost = checked_money(total, "total_cost")
    await announce_changes(uow, org_id, items.values(), before, cause="purchase", now=now)
    answer = Answer(201, dump((await _reads(uow.session, [bill]))[0]))
    await idempotency.remember(uow, claimed, answer)
    await uow.commit()
    return answer


async def get_bill(session: AsyncSession, org_id: uuid.UUID, bill_id: uuid.UUID,
                   ) -> PurchaseBillRead:
    bill = await session.scalar(sa.select(PurchaseBill).where(PurchaseBill.org_id == org_id,
                                                              PurchaseBill.id == bill_id))
    if bill is None:
        raise PurchaseBillNotFound(details={"purchase_bill_id": str(bill_id)})
    return (await _reads(session, [bill]))[0]


async def list_bills(session: AsyncSession, org_id: uuid.UUID, params: PageParams, *,
                     supplier_id: uuid.UUID | None = None) -> Page[PurchaseBillRead]:
    query = sa.select(PurchaseBill).where(PurchaseBill.org_id == org_id)
    if supplier_id is not None:
        query = query.where(PurchaseBill.supplier_id == supplier_id)
    total = await session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    bills = list(await session.scalars(
        query.order_by(PurchaseBill.billed_at.desc(), PurchaseBill.id)
        .limit(params.per_page).offset(params.offset)))
    return Page.build(await _reads(session, bills), int(total or 0), params)


async def _reads(session: AsyncSession, bills: Sequence[PurchaseBill]) -> list[PurchaseBillRead]:
    """Bills with their lines (and each line's lot number and expiry), in two queries."""
    rows = (await session.execute(
        sa.select(PurchaseBillLine, Lot.lot_number, Lot.expires_at)
        .join(Lot, Lot.id == PurchaseBillLine.lot_id)
        .where(PurchaseBillLine.bill_id.in_([bill.id for bill in bills]))
        .order_by(PurchaseBillLine.bill_id, Lot.created_at, Lot.id)
    )).all() if bills else []
    lines: dict[uuid.UUID, list[PurchaseBillLineRead]] = {}
    for line, lot_number, expires_at in rows:
        lines.setdefault(line.bill_id, []).append(PurchaseBillLineRead(
            id=line.id, item_id=line.item_id, lot_id=line.lot_id, lot_number=lot_number,
            quantity=line.quantity, unit=line.unit, unit_cost=line.unit_cost,
            line_cost=line.line_cost, expires_at=expires_at,
        ))
    return [PurchaseBillRead(
        id=bill.id, supplier_id=bill.supplier_id, bill_number=bill.bill_number,
        billed_at=bill.billed_at, total_cost=bill.total_cost, notes=bill.notes,
        created_by=bill.created_by, created_at=bill.created_at, lines=lines.get(bill.id, []),
    ) for bill in bills]
