"""Inventory's side of the batch saga (DESIGN.md, "The batch saga").

`BatchStarted`: take every line's stock FIFO/FEFO under row locks, all or nothing, and answer
`StockDeducted` (lot by lot, with costs) or `StockDeductionFailed` (with the shortages).
`BatchFinished`: a product lot per output, at the batch's unit cost. `BatchCancelled`: the
batch's stock back to the exact lots it came from, answered with `StockRestored`.

Each is idempotent by the ledger, not only by the consumer's inbox: a batch whose stock was
taken is not taken from twice, an output lot is not made twice, a cancelled batch has nothing
left to return. Nothing here commits; the consumer commits with the inbox row.
"""

from __future__ import annotations

import functools
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import structlog

from contracts import (
    BatchCancelled,
    BatchFinished,
    BatchStarted,
    StockDeducted,
    StockDeductionFailed,
    StockRestored,
)
from contracts.inventory import ConsumptionLine, RestorationLine, Shortage
from inventory.models import Item, Lot, Movement
from inventory.stock import ledger
from inventory.stock.domain import Picking, Shortfall
from inventory.stock.errors import QuantityOutOfRange
from inventory.stock.items import (
    cost_per_default_unit,
    from_default_unit,
    items_by_id,
    to_default_unit,
)
from inventory.stock.levels import (
    StockLevel,
    announce_changes,
    level_of_lots,
    lotless_figures,
    publish_changes,
    stock_levels,
)
from inventory.stock.locations import default_location
from servicekit.db import UnitOfWork, utcnow
from servicekit.decimals import ZERO, on_scale, tidy
from servicekit.messaging.consumer import InvalidPayload
from servicekit.units import DensityRequired, IncompatibleUnits, UnknownUnit

logger = structlog.get_logger("inventory.production")


def _provenance(event: BatchStarted | BatchFinished | BatchCancelled,
                reason: str) -> ledger.Provenance:
    return ledger.Provenance(actor=f"event:{event.routing_key()}", reason=reason,
                             batch_id=event.batch_id)


async def deduct_for_batch(uow: UnitOfWork, org_id: uuid.UUID, event: BatchStarted) -> None:
    now = utcnow()
    # One statement locks every lot this batch could take from, in lot-id order; then one
    # reads all the rest. Reservations lock the same lots, so what is reserved holds still.
    named = {line.item_id for line in event.lines}
    lots = await ledger.lock_lots(uow, org_id, named)
    rows = (await uow.session.execute(_held_items(), {
        "org_id": org_id, "now": now, "batch_id": event.batch_id, "item_ids": list(named)},
    )).all()
    if any(taken for *_, taken in rows):
        await _answer_again(uow, org_id, event)
        return
    items = {item.id: item for item, *_ in rows}
    balances = {item.id: (Decimal(unlotted), Decimal(reserved))
                for item, unlotted, reserved, _ in rows}
    shortages: list[Shortage] = []
    needs: dict[uuid.UUID, Decimal] = {}
    units: dict[uuid.UUID, set[str]] = {}
    for line in event.lines:
        item = items.get(line.item_id)
        if item is None:
            shortages.append(Shortage(item_id=line.item_id, needed=line.quantity,
                                      available=ZERO, unit=line.unit, reason="unknown_item"))
            continue
        try:
            quantity = to_default_unit(item, line.quantity, line.unit)
        except DensityRequired:
            shortages.append(Shortage(item_id=item.id, needed=line.quantity, available=ZERO,
                                      unit=line.unit, reason="density_required"))
            continue
        except (UnknownUnit, IncompatibleUnits, QuantityOutOfRange) as error:
            # The contract has no reason for a unit that cannot be converted; nothing of the
            # item can be used in that unit, so it is short by all of it.
            logger.warning("batch line in a unit its item cannot use", batch_id=str(
                event.batch_id), item_id=str(item.id), unit=line.unit, error=error.message)
            shortages.append(Shortage(item_id=item.id, needed=line.quantity, available=ZERO,
                                      unit=line.unit, reason="insufficient"))
            continue
        needs[item.id] = needs.get(item.id, ZERO) + quantity
        units.setdefault(item.id, set()).add(line.unit)

    def level(item_id: uuid.UUID) -> StockLevel:
        # From the locked lots in hand: before the picks, and after them (`take` updates the
        # lots), exactly what reading them would give.
        unlotted, reserved = balances[item_id]
        return level_of_lots(lots.get(item_id, ()), now=now, unlotted=unlotted,
                             reserved=reserved)

    before = {item_id: level(item_id) for item_id in needs}
    plans: dict[uuid.UUID, Picking] = {}
    for item_id, quantity in needs.items():
        item = items[item_id]
        outcome = ledger.plan(item, lots.get(item_id, []), quantity, now=now,
                              keep=before[item_id].reserved)
        if isinstance(outcome, Shortfall):
            shortages.append(_shortage(item, outcome, units[item_id]))
        else:
            plans[item_id] = outcome
    if shortages:
        uow.publish(StockDeductionFailed(batch_id=event.batch_id, shortages=tuple(shortages)),
                    org_id=org_id, subject=str(event.batch_id))
        return

    provenance = _provenance(event, f"batch {event.batch_code} started")
    consumption: list[ConsumptionLine] = []
    for item_id, picking in plans.items():
        item = items[item_id]
        ledger.take(uow, org_id, item, picking, {lot.id: lot for lot in lots[item_id]},
                    kind="batch_consumption", provenance=provenance)
        consumption += [ConsumptionLine(
            item_id=item.id, lot_id=pick.lot.id, lot_number=pick.lot.lot_number,
            quantity=tidy(pick.quantity), unit=item.default_unit,
            unit_cost=tidy(pick.lot.unit_cost), cost=tidy(pick.cost),
        ) for pick in picking.picks]
    uow.publish(StockDeducted(batch_id=event.batch_id, consumption=tuple(consumption),
                              total_cost=tidy(sum((c.cost for c in consumption), ZERO))),
                org_id=org_id, subject=str(event.batch_id))
    await publish_changes(uow, org_id, (items[i] for i in plans), before,
                          {item_id: level(item_id) for item_id in plans}, cause="batch_started")


@functools.cache
def _held_items() -> sa.Select[Any]:
    """The batch's items (the organization's among those named), each with its lot-less
    balance and what is reserved, and whether the batch has taken stock already. Built once,
    its values bound at each execution: building it would cost more than running it."""
    org_id, now = sa.bindparam("org_id"), sa.bindparam("now")
    unlotted, reserved = lotless_figures(org_id, now)
    taken = sa.exists().where(
        Movement.org_id == org_id, Movement.batch_id == sa.bindparam("batch_id"),
        Movement.kind == "batch_consumption", Movement.quantity < 0)
    return (sa.select(Item, unlotted, reserved, taken)
            .where(Item.org_id == org_id, Item.id.in_(sa.bindparam("item_ids", expanding=True))))


async def _answer_again(uow: UnitOfWork, org_id: uuid.UUID, event: BatchStarted) -> None:
    """A batch whose stock was already taken (the same start sent again under another event
    id) takes nothing more; the consumption on record is sent again as the answer."""
    rows = (await uow.session.execute(
        sa.select(Movement, Lot.lot_number, Item.default_unit)
        .join(Lot, Lot.id == Movement.lot_id).join(Item, Item.id == Movement.item_id)
        .where(Movement.org_id == org_id, Movement.batch_id == event.batch_id,
               Movement.kind == "batch_consumption", Movement.quantity < 0)
        .order_by(Movement.id)
    )).all()
    consumption = tuple(ConsumptionLine(
        item_id=m.item_id, lot_id=m.lot_id, lot_number=lot_number, quantity=tidy(-m.quantity),
        unit=unit, unit_cost=tidy(m.unit_cost or ZERO), cost=tidy(-(m.cost or ZERO)),
    ) for m, lot_number, unit in rows)
    logger.info("batch stock already taken; answering from the ledger",
                batch_id=str(event.batch_id))
    uow.publish(StockDeducted(batch_id=event.batch_id, consumption=consumption,
                              total_cost=tidy(sum((c.cost for c in consumption), ZERO))),
                org_id=org_id, subject=str(event.batch_id))


def _shortage(item: Item, shortfall: Shortfall, line_units: set[str]) -> Shortage:
    # In the batch's own unit when its lines for the item agree on one, else the item's.
    unit = next(iter(line_units)) if len(line_units) == 1 else item.default_unit
    return Shortage(
        item_id=item.id, needed=tidy(from_default_unit(item, shortfall.needed, unit)),
        available=tidy(from_default_unit(item, shortfall.available, unit)), unit=unit,
        reason="expired_lots_only" if shortfall.expired_only else "insufficient",
    )


async def receive_outputs(uow: UnitOfWork, org_id: uuid.UUID, event: BatchFinished) -> None:
    now = utcnow()
    items = await items_by_id(uow.session, org_id, (o.item_id for o in event.outputs))
    made = set((await uow.session.execute(
        sa.select(Lot.item_id, Lot.lot_number).where(
            Lot.org_id == org_id, Lot.batch_id == event.batch_id, Lot.source == "batch_output")
    )).all())
    before = await stock_levels(uow.session, org_id, items, now=now)
    location = await default_location(uow, org_id)
    provenance = _provenance(event, f"batch {event.batch_code} finished")
    for output in event.outputs:
        item = items.get(output.item_id)
        if item is None:
            # No retry can help: the batch names an item this organization does not have.
            raise InvalidPayload(f"batch output names an unknown item {output.item_id}")
        lot_number = output.lot_number or event.batch_code
        if (item.id, lot_number) in made:
            continue
        try:
            quantity = to_default_unit(item, output.quantity, output.unit)
            unit_cost = cost_per_default_unit(item, output.unit_cost, output.unit)
        except (UnknownUnit, IncompatibleUnits, DensityRequired, QuantityOutOfRange) as error:
            raise InvalidPayload(f"batch output of {item.id}: {error.message}") from error
        ledger.receive(uow, org_id, item, quantity, unit_cost=unit_cost,
                       location_id=location.id, provenance=provenance, kind="batch_output",
                       lot_number=lot_number, received_at=now, expires_at=output.expires_at,
                       batch_id=event.batch_id,
                       cost=on_scale(output.quantity * output.unit_cost))
        made.add((item.id, lot_number))
    await announce_changes(uow, org_id, items.values(), before, cause="batch_finished", now=now)


async def restore_batch(uow: UnitOfWork, org_id: uuid.UUID, event: BatchCancelled) -> None:
    now = utcnow()
    taken_from = list(await uow.session.scalars(
        sa.select(Movement.lot_id).distinct().where(
            Movement.org_id == org_id, Movement.batch_id == event.batch_id,
            Movement.kind == "batch_consumption", Movement.lot_id.is_not(None))))
    # Lock first, then read what is still out: a concurrent cancel waits here and then finds
    # the stock already back.
    locked = await ledger.lock_lots(uow, org_id, lot_ids=taken_from)
    balance = await ledger.batch_balance(uow.session, org_id, event.batch_id)
    returns = {lot_id: -net for lot_id, net in balance.items() if net < 0}
    lots = {lot.id: lot for group in locked.values() for lot in group}
    items = await items_by_id(uow.session, org_id, {lots[i].item_id for i in returns})
    before = await stock_levels(uow.session, org_id, items, now=now)
    movements = await ledger.restore_to_lots(
        uow, org_id, returns, kind="batch_consumption",
        provenance=_provenance(event, f"batch {event.batch_code} cancelled: stock returned"))
    uow.publish(StockRestored(batch_id=event.batch_id, restorations=tuple(
        RestorationLine(item_id=m.item_id, lot_id=m.lot_id, quantity=tidy(m.quantity),
                        unit=items[m.item_id].default_unit)
        for m in movements)), org_id=org_id, subject=str(event.batch_id))
    await announce_changes(uow, org_id, items.values(), before, cause="batch_cancelled",
                           now=now)
