"""Inventory adjustments (seed 000): restock, spoil, trash, recount, sale and sale return.

Every line of a request applies in one transaction: one bad line and nothing is applied. Each
line's quantity may be in any unit that converts to the item's.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from inventory.catalog.service import ItemNotFound
from inventory.models import Item, Movement
from inventory.stock import idempotency, ledger
from inventory.stock.errors import at_line
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
    AdjustmentLine,
    AdjustmentsData,
    AdjustmentsRequest,
    AdjustmentsResult,
    as_moment,
    dump,
)
from inventory.stock.views import movement_reads
from servicekit.db import UnitOfWork, utcnow
from servicekit.decimals import ZERO
from servicekit.errors import DomainError

ENDPOINT = "POST /api/v1/inventory/adjustments"


async def adjust(uow: UnitOfWork, org_id: uuid.UUID, actor: str, request: AdjustmentsRequest,
                 *, idempotency_key: str | None = None) -> Answer:
    claimed = await idempotency.claim(uow, org_id, idempotency_key, ENDPOINT, request)
    if isinstance(claimed, Answer):
        return claimed
    now = utcnow()
    items = await items_by_id(uow.session, org_id, (line.target for line in request.adjustments))
    # Every line is understood (item, unit) before any stock moves.
    resolved: list[tuple[AdjustmentLine, Item, Decimal]] = []
    for index, line in enumerate(request.adjustments):
        try:
            item = items.get(line.target)
            if item is None:
                raise ItemNotFound(details={"item_id": str(line.target)})
            quantity = to_default_unit(item, line.quantity, line.unit,
                                       allow_zero=line.adjustment_type == "recount")
        except DomainError as error:
            raise at_line(error, index) from None
        resolved.append((line, item, quantity))

    # Lock, in one go, everything that lines other than restocks may take from or count.
    await ledger.lock_lots(
        uow, org_id, {item.id for line, item, _ in resolved if line.adjustment_type != "restock"},
        lot_ids={line.lot_id for line, _, _ in resolved if line.lot_id is not None},
    )
    before = await stock_levels(uow.session, org_id, items, now=now)
    movements: list[Movement] = []
    for index, (line, item, quantity) in enumerate(resolved):
        provenance = ledger.Provenance(actor=actor, reason=line.reason or request.notes)
        try:
            movements += await _apply(uow, org_id, line, item, quantity, provenance, now)
        except DomainError as error:
            raise at_line(error, index) from None
    await announce_changes(uow, org_id, items.values(), before, cause="adjustment", now=now)

    result = AdjustmentsResult(data=AdjustmentsData(
        adjustments_processed=len(resolved),
        total_cost_change=sum((m.cost or ZERO for m in movements), ZERO),
        movements=await movement_reads(uow.session, movements),
    ))
    answer = Answer(200, dump(result))
    await idempotency.remember(uow, claimed, answer)
    await uow.commit()
    return answer


async def _apply(uow: UnitOfWork, org_id: uuid.UUID, line: AdjustmentLine, item: Item,
                 quantity: Decimal, provenance: ledger.Provenance,
                 now: datetime) -> list[Movement]:
    kind = line.adjustment_type
    if kind == "recount":
        assert line.lot_id is not None  # the request model insists
        lot = await ledger.lock_lot(uow, org_id, line.lot_id, item=item, lock=False)
        return [ledger.recount(uow, org_id, lot, quantity, provenance=provenance)]
    if kind in ("spoil", "trash", "sale"):
        consumption = await ledger.consume(uow, org_id, item, quantity, kind=kind,
                                           provenance=provenance, lock=False, now=now,
                                           lot_id=line.lot_id)
        return list(consumption.movements)
    if kind == "sale_return" and line.lot_id is not None:
        await ledger.lock_lot(uow, org_id, line.lot_id, item=item, lock=False)
        return await ledger.restore_to_lots(uow, org_id, {line.lot_id: quantity},
                                            kind="sale_return", provenance=provenance)
    # A restock, or a return that is not put back into a lot: a new lot.
    location = await location_or_default(uow, org_id, line.location_id)
    await check_supplier(uow.session, org_id, line.supplier_id)
    if line.cost_per_unit is not None:
        unit_cost = cost_per_default_unit(item, line.cost_per_unit, line.unit)
        cost = checked_money(line.quantity * line.cost_per_unit)
    else:
        unit_cost = await ledger.latest_unit_cost(uow.session, org_id, item.id)
        cost = checked_money(quantity * unit_cost)
    _, movement = ledger.receive(
        uow, org_id, item, quantity, unit_cost=unit_cost, location_id=location.id,
        provenance=provenance, kind=kind, lot_number=line.lot_number, received_at=now,
        expires_at=as_moment(line.expiration_date),
        supplier_id=line.supplier_id or item.supplier_id, cost=cost,
    )
    return [movement]
