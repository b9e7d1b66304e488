"""Shortcuts for batches' tests: hand-made plan snapshots, and a fake inventory on the
in-process transport that answers the saga's events the way the real one does (FIFO from the
lots it is given, all or nothing; back to the exact lots on cancel)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from contracts import (
    BatchCancelled,
    BatchFinished,
    BatchStarted,
    Event,
    StockDeducted,
    StockDeductionFailed,
    StockRestored,
)
from contracts.inventory import ConsumptionLine, RestorationLine, Shortage
from servicekit.messaging.envelope import Envelope
from servicekit.messaging.transport import Delivery, Disposition, Transport

START = "/api/v1/batches/start"


def plan(*ingredients: tuple[uuid.UUID, Any] | tuple[uuid.UUID, Any, str],
         consumables: tuple[tuple[uuid.UUID, Any], ...] = (),
         containers: tuple[tuple[uuid.UUID, int], ...] = (), **extra: Any) -> dict[str, Any]:
    """A plan snapshot as JSON: ingredients as (item, quantity[, unit]) in grams unless told,
    consumables in count, containers by count."""
    def line(entry: tuple[Any, ...], unit: str) -> dict[str, Any]:
        return {"inventory_item_id": str(entry[0]), "quantity": str(entry[1]),
                "unit": entry[2] if len(entry) > 2 else unit}

    return {
        "recipe_id": str(uuid.uuid4()), "recipe_version": 1, "recipe_name": "Milk and Honey",
        "projected_yield": 10, "projected_yield_unit": "bars",
        "ingredients_plan": [line(entry, "g") for entry in ingredients],
        "consumables_plan": [line(entry, "count") for entry in consumables],
        "containers": [{"id": str(c), "quantity": n} for c, n in containers],
        **extra,
    }


@dataclass
class FakeLot:
    id: uuid.UUID
    item_id: uuid.UUID
    lot_number: str
    quantity: Decimal
    unit_cost: Decimal
    unit: str


@dataclass
class FakeInventory:
    """Subscribes to the batch events on `transport` and answers those of `org_id` (of every
    organization without one). `hold` keeps started batches unanswered (inventory's worker
    is down) until `release()`."""

    transport: Transport
    org_id: uuid.UUID | None = None
    hold: bool = False
    lots: list[FakeLot] = field(default_factory=list)
    started: list[BatchStarted] = field(default_factory=list)
    finished: list[BatchFinished] = field(default_factory=list)
    cancelled: list[BatchCancelled] = field(default_factory=list)
    taken: dict[uuid.UUID, list[tuple[FakeLot, Decimal]]] = field(default_factory=dict)
    _held: list[tuple[BatchStarted, str]] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def subscribe(self) -> FakeInventory:
        await self.transport.subscribe(
            "inventory.events", [BatchStarted.routing_key(), BatchFinished.routing_key(),
                                 BatchCancelled.routing_key()], self._on_delivery)
        return self

    def stock(self, item_id: uuid.UUID, quantity: Any, unit_cost: Any = 1,
              unit: str = "g") -> uuid.UUID:
        lot = FakeLot(uuid.uuid4(), item_id, f"LOT-{len(self.lots) + 1}", Decimal(str(quantity)),
                      Decimal(str(unit_cost)), unit)
        self.lots.append(lot)
        return lot.id

    def remaining(self, lot_id: uuid.UUID) -> Decimal:
        return next(lot.quantity for lot in self.lots if lot.id == lot_id)

    async def release(self) -> None:
        self.hold = False
        held, self._held = self._held, []
        for event, org in held:
            await self._deduct(event, org)

    async def _on_delivery(self, delivery: Delivery) -> Disposition:
        envelope = Envelope.from_bytes(delivery.body)
        if self.org_id is not None and envelope.orgid != str(self.org_id):
            # Another test's event, left in the shared database's outbox and relayed here.
            return Disposition.ack()
        async with self._lock:
            if envelope.type == BatchStarted.routing_key():
                event = BatchStarted.model_validate(envelope.data)
                self.started.append(event)
                if self.hold:
                    self._held.append((event, envelope.orgid))
                else:
                    await self._deduct(event, envelope.orgid)
            elif envelope.type == BatchFinished.routing_key():
                finished = BatchFinished.model_validate(envelope.data)
                self.finished.append(finished)
                self.lots += [FakeLot(uuid.uuid4(), output.item_id, output.lot_number,
                                      output.quantity, output.unit_cost, output.unit)
                              for output in finished.outputs]
            elif envelope.type == BatchCancelled.routing_key():
                cancelled = BatchCancelled.model_validate(envelope.data)
                self.cancelled.append(cancelled)
                await self._restore(cancelled, envelope.orgid)
        return Disposition.ack()

    async def _deduct(self, event: BatchStarted, org: str) -> None:
        free = {lot.id: lot.quantity for lot in self.lots}
        picks: list[tuple[FakeLot, Decimal]] = []
        shortages = []
        for line in event.lines:
            lots = [lot for lot in self.lots if lot.item_id == line.item_id]
            available = sum((free[lot.id] for lot in lots), Decimal(0))
            if available < line.quantity:
                shortages.append(Shortage(item_id=line.item_id, needed=line.quantity,
                                          available=available, unit=line.unit,
                                          reason="insufficient"))
                continue
            need = line.quantity
            for lot in lots:
                take = min(free[lot.id], need)
                if take:
                    picks.append((lot, take))
                    free[lot.id] -= take
                    need -= take
        if shortages:
            await self.answer(StockDeductionFailed(batch_id=event.batch_id,
                                                   shortages=tuple(shortages)), org)
            return
        for lot, quantity in picks:
            lot.quantity -= quantity
        self.taken[event.batch_id] = picks
        consumption = tuple(ConsumptionLine(
            item_id=lot.item_id, lot_id=lot.id, lot_number=lot.lot_number, quantity=quantity,
            unit=lot.unit, unit_cost=lot.unit_cost, cost=quantity * lot.unit_cost)
            for lot, quantity in picks)
        await self.answer(StockDeducted(batch_id=event.batch_id, consumption=consumption,
                                        total_cost=sum((c.cost for c in consumption),
                                                       Decimal(0))), org)

    async def _restore(self, event: BatchCancelled, org: str) -> None:
        picks = self.taken.pop(event.batch_id, [])
        for lot, quantity in picks:
            lot.quantity += quantity
        await self.answer(StockRestored(batch_id=event.batch_id, restorations=tuple(
            RestorationLine(item_id=lot.item_id, lot_id=lot.id, quantity=quantity,
                            unit=lot.unit) for lot, quantity in picks)), org)

    async def answer(self, event: Event, org: str | uuid.UUID) -> Envelope:
        envelope = Envelope(source="/smallbatch/inventory", type=event.routing_key(),
                            data=event.model_dump(mode="json"), orgid=str(org))
        await self.transport.publish(envelope.type, envelope.to_bytes(),
                                     message_id=envelope.id)
        return envelope
