"""The stock ledger: the only code that changes lot quantities, and every change a movement.

Nothing here commits; the use case calling it owns the transaction. Lots are locked before
they change: on PostgreSQL with `SELECT ... FOR UPDATE`, always in one statement ordered by lot
id, so transactions that want several of the same lots queue in the same order and cannot
deadlock; on SQLite the unit of work's `BEGIN IMMEDIATE` already lets one writer in at a time.

A lot's `quantity_remaining` always equals the sum of its movements (`recompute` proves it).
"""

from __future__ import annotations

import functools
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.models import Item, Lot, Movement
from inventory.stock import domain
from inventory.stock.domain import LotStock, Pick, Picking, Shortfall
from inventory.stock.errors import LotNotFound, LotOfAnotherItem, StockInsufficient, json_number
from servicekit.db import UnitOfWork, utcnow
from servicekit.decimals import ZERO, on_scale

MovementKind = Literal[
    "restock", "purchase", "batch_consumption", "batch_output", "sale", "sale_return",
    "spoil", "trash", "recount", "move_out", "move_in", "reservation_hold",
    "reservation_release",
]
MOVEMENT_KINDS: tuple[str, ...] = get_args(MovementKind)
# Holds and releases mark stock as promised; they leave what is on hand as it is.
ON_HAND_KINDS = frozenset(MOVEMENT_KINDS) - {"reservation_hold", "reservation_release"}


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who moved stock, why, and what it belongs to; stamped on every movement."""

    actor: str | None = None  # a user id, or "event:<type>"
    reason: str | None = None
    correlation_id: str | None = None
    batch_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    reservation_id: uuid.UUID | None = None
    count_id: uuid.UUID | None = None
    purchase_bill_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Consumption:
    item: Item
    picking: Picking
    movements: tuple[Movement, ...] = field(default=())

    @property
    def cost(self) -> Decimal:
        return self.picking.cost


def record(uow: UnitOfWork, org_id: uuid.UUID, *, item_id: uuid.UUID, kind: MovementKind,
           quantity: Decimal, provenance: Provenance, lot: Lot | None = None,
           location_id: uuid.UUID | None = None, unit_cost: Decimal | None = None,
           cost: Decimal | None = None, related_lot_id: uuid.UUID | None = None,
           occurred_at: datetime | None = None) -> Movement:
    """Add one movement (signed `quantity` in the item's default unit) to the ledger.

    Unit cost defaults to the lot's, cost to quantity times unit cost.
    """
    if unit_cost is None and lot is not None:
        unit_cost = lot.unit_cost
    if cost is None and unit_cost is not None:
        cost = on_scale(quantity * unit_cost)
    movement = Movement(
        org_id=org_id, item_id=item_id, lot_id=lot.id if lot is not None else None,
        location_id=location_id or (lot.location_id if lot is not None else None),
        kind=kind, quantity=quantity, unit_cost=unit_cost, cost=cost,
        related_lot_id=related_lot_id, actor=provenance.actor, reason=provenance.reason,
        correlation_id=provenance.correlation_id or uow.context.correlation_id,
        batch_id=provenance.batch_id, order_id=provenance.order_id,
        reservation_id=provenance.reservation_id, count_id=provenance.count_id,
        purchase_bill_id=provenance.purchase_bill_id, occurred_at=occurred_at or utcnow(),
    )
    uow.session.add(movement)
    return movement


def receive(uow: UnitOfWork, org_id: uuid.UUID, item: Item, quantity: Decimal, *,
            unit_cost: Decimal, location_id: uuid.UUID, provenance: Provenance,
            kind: MovementKind = "restock", lot_number: str | None = None,
            received_at: datetime | None = None, expires_at: datetime | None = None,
            supplier_id: uuid.UUID | None = None, purchase_bill_id: uuid.UUID | None = None,
            batch_id: uuid.UUID | None = None, cost: Decimal | None = None,
            ) -> tuple[Lot, Movement]:
    """A new lot of `quantity` (default unit) at `unit_cost` (per default unit), and its
    movement. Without a lot number one is generated; without an expiry, the item's shelf life
    sets one. `cost` is what the receipt cost in total, when known more exactly than
    quantity x unit cost (a price per kilogram spread over grams)."""
    if quantity <= 0:
        raise ValueError("a received quantity must be positive")
    received_at = received_at or utcnow()
    if expires_at is None:
        expires_at = domain.expiry_from_shelf_life(received_at, item.shelf_life_days)
    lot = Lot(
        id=uuid.uuid4(), org_id=org_id, item_id=item.id, location_id=location_id,
        lot_number=lot_number or domain.lot_number_for(received_at.date(), secrets.token_hex(2)),
        supplier_id=supplier_id, purchase_bill_id=purchase_bill_id, batch_id=batch_id,
        source=kind, received_at=received_at, expires_at=expires_at, unit_cost=unit_cost,
        quantity_received=quantity, quantity_remaining=quantity, quarantined=False,
        created_at=utcnow(),
    )
    uow.session.add(lot)
    movement = record(uow, org_id, item_id=item.id, lot=lot, kind=kind, quantity=quantity,
                      provenance=provenance, cost=cost, occurred_at=received_at)
    return lot, movement


async def lock_lots(uow: UnitOfWork, org_id: uuid.UUID, item_ids: Iterable[uuid.UUID] = (),
                    *, lot_ids: Iterable[uuid.UUID] = (), lock: bool = True,
                    ) -> dict[uuid.UUID, list[Lot]]:
    """The items' lots that hold stock (and the lots named in `lot_ids`, empty or not),
    locked for update in lot-id order, by item."""
    items, named = set(item_ids), set(lot_ids)
    if not items and not named:
        return {}
    lock = lock and not uow.db.is_sqlite
    if not named:  # the hot path (every batch started, every order): a statement built once
        rows = await uow.session.scalars(_lots_with_stock(lock),
                                         {"org_id": org_id, "item_ids": list(items)})
        return _by_item(rows)
    wanted = sa.or_(
        sa.and_(Lot.item_id.in_(items), Lot.quantity_remaining > 0) if items else sa.false(),
        Lot.id.in_(named) if named else sa.false(),
    )
    query = (sa.select(Lot).where(Lot.org_id == org_id, wanted).order_by(Lot.id)
             .execution_options(populate_existing=True))
    if lock:
        query = query.with_for_update()
    return _by_item(await uow.session.scalars(query))


@functools.cache
def _lots_with_stock(lock: bool) -> sa.Select[tuple[Lot]]:
    query = (sa.select(Lot)
             .where(Lot.org_id == sa.bindparam("org_id"),
                    Lot.item_id.in_(sa.bindparam("item_ids", expanding=True)),
                    Lot.quantity_remaining > 0)
             .order_by(Lot.id).execution_options(populate_existing=True))
    return query.with_for_update() if lock else query


def _by_item(lots: Iterable[Lot]) -> dict[uuid.UUID, list[Lot]]:
    by_item: dict[uuid.UUID, list[Lot]] = {}
    for lot in lots:
        by_item.setdefault(lot.item_id, []).append(lot)
    return by_item


async def lock_lot(uow: UnitOfWork, org_id: uuid.UUID, lot_id: uuid.UUID, *,
                   item: Item | None = None, lock: bool = True) -> Lot:
    """One lot of the organization, locked; with `item`, it must be that item's."""
    lots = await lock_lots(uow, org_id, lot_ids=[lot_id], lock=lock)
    lot = next(iter(lots.values()), [None])[0]
    if lot is None:
        raise LotNotFound(details={"lot_id": str(lot_id)})
    if item is not None and lot.item_id != item.id:
        raise LotOfAnotherItem(details={"lot_id": str(lot_id), "item_id": str(item.id)})
    return lot


def as_stock(lot: Lot) -> LotStock:
    return LotStock(id=lot.id, lot_number=lot.lot_number, quantity=lot.quantity_remaining,
                    unit_cost=lot.unit_cost, received_at=lot.received_at,
                    expires_at=lot.expires_at, quarantined=lot.quarantined)


def plan(item: Item, lots: Iterable[Lot], quantity: Decimal, *, now: datetime,
         keep: Decimal = ZERO) -> Picking | Shortfall:
    """Which of `lots` would cover `quantity`, in the order the item consumes them."""
    order: domain.ConsumptionOrder = "fefo" if item.consumption_order == "fefo" else "fifo"
    return domain.pick([as_stock(lot) for lot in lots], quantity, now=now, order=order,
                       keep=keep)


async def consume(uow: UnitOfWork, org_id: uuid.UUID, item: Item, quantity: Decimal, *,
                  kind: MovementKind, provenance: Provenance, lock: bool = True,
                  now: datetime | None = None, keep: Decimal = ZERO,
                  lot_id: uuid.UUID | None = None) -> Consumption:
    """Take `quantity` (default unit) of the item: FIFO/FEFO across its usable lots, or all
    from the lot `lot_id` (which may be expired or quarantined: that is how such stock is
    written off). All or nothing: raises `StockInsufficient` and changes nothing if short."""
    now = now or utcnow()
    if lot_id is not None:
        lot = await lock_lot(uow, org_id, lot_id, item=item, lock=lock)
        if lot.quantity_remaining < quantity:
            raise insufficient(item, Shortfall(needed=quantity,
                                               available=lot.quantity_remaining,
                                               expired_only=False), lot=lot)
        return take(uow, org_id, item, Picking((Pick(as_stock(lot), quantity),)), {lot.id: lot},
                    kind=kind, provenance=provenance)
    lots = (await lock_lots(uow, org_id, [item.id], lock=lock)).get(item.id, [])
    outcome = plan(item, lots, quantity, now=now, keep=keep)
    if isinstance(outcome, Shortfall):
        raise insufficient(item, outcome)
    return take(uow, org_id, item, outcome, {lot.id: lot for lot in lots}, kind=kind,
                provenance=provenance)


def take(uow: UnitOfWork, org_id: uuid.UUID, item: Item, picking: Picking,
         lots: Mapping[uuid.UUID, Lot], *, kind: MovementKind,
         provenance: Provenance) -> Consumption:
    """Apply a planned picking to the (locked) lots: decrement each, one movement per lot."""
    movements = []
    for pick in picking.picks:
        lot = lots[pick.lot.id]
        lot.quantity_remaining -= pick.quantity
        movements.append(record(uow, org_id, item_id=item.id, lot=lot, kind=kind,
                                quantity=-pick.quantity, provenance=provenance,
                                cost=-pick.cost))
    return Consumption(item=item, picking=picking, movements=tuple(movements))


async def restore_to_lots(uow: UnitOfWork, org_id: uuid.UUID, returns: Mapping[uuid.UUID, Decimal],
                          *, kind: MovementKind, provenance: Provenance) -> list[Movement]:
    """Put quantities back into the exact lots they were taken from (`returns`: lot id to a
    positive quantity), one movement each."""
    wanted = {lot_id: q for lot_id, q in returns.items() if q > 0}
    if not wanted:
        return []
    by_item = await lock_lots(uow, org_id, lot_ids=wanted)
    movements = []
    for lot in sorted((lot for lots in by_item.values() for lot in lots), key=lambda x: x.id):
        quantity = wanted[lot.id]
        lot.quantity_remaining += quantity
        movements.append(record(uow, org_id, item_id=lot.item_id, lot=lot, kind=kind,
                                quantity=quantity, provenance=provenance))
    return movements


def recount(uow: UnitOfWork, org_id: uuid.UUID, lot: Lot, counted: Decimal, *,
            provenance: Provenance) -> Movement:
    """Set a (locked) lot's remaining quantity to what was counted; the variance is the
    movement (zero when the count confirms the books: the count itself is on record)."""
    variance = counted - lot.quantity_remaining
    lot.quantity_remaining = counted
    return record(uow, org_id, item_id=lot.item_id, lot=lot, kind="recount", quantity=variance,
                  provenance=provenance)


def split(uow: UnitOfWork, org_id: uuid.UUID, lot: Lot, quantity: Decimal,
          location_id: uuid.UUID, *, provenance: Provenance,
          ) -> tuple[Lot, Movement, Movement]:
    """Move `quantity` of a (locked) lot to another location: a new lot there that keeps the
    original's number, receipt time, cost, expiry and origin, so FIFO order and traceability
    are unchanged. Two movements, `move_out` and `move_in`, name each other's lot."""
    if not 0 < quantity <= lot.quantity_remaining:
        raise ValueError("a split takes a positive quantity the lot holds")
    moved = Lot(
        id=uuid.uuid4(), org_id=org_id, item_id=lot.item_id, location_id=location_id,
        lot_number=lot.lot_number, supplier_id=lot.supplier_id,
        purchase_bill_id=lot.purchase_bill_id, batch_id=lot.batch_id, source=lot.source,
        received_at=lot.received_at, expires_at=lot.expires_at, unit_cost=lot.unit_cost,
        quantity_received=quantity, quantity_remaining=quantity, quarantined=lot.quarantined,
        created_at=utcnow(),
    )
    uow.session.add(moved)
    lot.quantity_remaining -= quantity
    out = record(uow, org_id, item_id=lot.item_id, lot=lot, kind="move_out", quantity=-quantity,
                 provenance=provenance, related_lot_id=moved.id)
    into = record(uow, org_id, item_id=lot.item_id, lot=moved, kind="move_in", quantity=quantity,
                  provenance=provenance, related_lot_id=lot.id)
    return moved, out, into


async def latest_unit_cost(session: AsyncSession, org_id: uuid.UUID,
                           item_id: uuid.UUID) -> Decimal:
    """The unit cost of the item's most recently received lot (zero if it has none)."""
    cost = await session.scalar(
        sa.select(Lot.unit_cost).where(Lot.org_id == org_id, Lot.item_id == item_id)
        .order_by(Lot.received_at.desc(), Lot.id.desc()).limit(1))
    return Decimal(cost) if cost is not None else ZERO


async def batch_balance(session: AsyncSession, org_id: uuid.UUID,
                        batch_id: uuid.UUID) -> dict[uuid.UUID, Decimal]:
    """Per lot, the net quantity a batch's consumption movements moved (negative: taken)."""
    rows = await session.execute(
        sa.select(Movement.lot_id, sa.func.sum(Movement.quantity))
        .where(Movement.org_id == org_id, Movement.batch_id == batch_id,
               Movement.kind == "batch_consumption", Movement.lot_id.is_not(None))
        .group_by(Movement.lot_id)
    )
    return {lot_id: Decimal(total) for lot_id, total in rows}


def insufficient(item: Item, shortfall: Shortfall, *, lot: Lot | None = None) -> StockInsufficient:
    where = f" in lot {lot.lot_number}" if lot is not None else ""
    details: dict[str, Any] = {
        "item_id": str(item.id), "item_name": item.name, "unit": item.default_unit,
        "needed": json_number(shortfall.needed), "available": json_number(shortfall.available),
        "shortage": json_number(shortfall.missing), "expired_only": shortfall.expired_only,
        "skipped_lots": [
            {"lot_id": str(s.lot.id), "lot_number": s.lot.lot_number, "reason": s.reason,
             "quantity": json_number(s.lot.quantity)} for s in shortfall.skipped
        ],
    }
    if lot is not None:
        details["lot_id"] = str(lot.id)
    return StockInsufficient(
        f"Not enough {item.name}{where}: {shortfall.needed} {item.default_unit} needed, "
        f"{shortfall.available} available", details=details)


@dataclass(frozen=True, slots=True)
class LedgerBalance:
    """On-hand quantities as the ledger alone tells them.

    `items` is every movement of an item, `unlotted` the part recorded without a lot (a sale
    beyond the stock, which no lot can hold): an item's lots hold `items - unlotted`.
    """

    lots: dict[uuid.UUID, Decimal]
    items: dict[uuid.UUID, Decimal]
    unlotted: dict[uuid.UUID, Decimal]


async def recompute(session: AsyncSession, org_id: uuid.UUID) -> LedgerBalance:
    """Rebuild per-lot and per-item on-hand from the movements alone."""
    rows = await session.execute(
        sa.select(Movement.item_id, Movement.lot_id, sa.func.sum(Movement.quantity))
        .where(Movement.org_id == org_id, Movement.kind.in_(ON_HAND_KINDS))
        .group_by(Movement.item_id, Movement.lot_id)
    )
    lots: dict[uuid.UUID, Decimal] = {}
    items: dict[uuid.UUID, Decimal] = {}
    unlotted: dict[uuid.UUID, Decimal] = {}
    for item_id, lot_id, total in rows:
        if lot_id is not None:
            lots[lot_id] = Decimal(total)
        else:
            unlotted[item_id] = Decimal(total)
        items[item_id] = items.get(item_id, ZERO) + Decimal(total)
    return LedgerBalance(lots=lots, items=items, unlotted=unlotted)


@dataclass(frozen=True, slots=True)
class Discrepancy:
    kind: Literal["lot", "item"]
    id: uuid.UUID
    recorded: Decimal  # what the lot table holds
    ledger: Decimal  # what the movements add up to


async def discrepancies(session: AsyncSession, org_id: uuid.UUID) -> list[Discrepancy]:
    """Where lot quantities and the ledger disagree (an empty list when the books balance):
    each lot against its movements, each item's lots against its movements into lots."""
    balance = await recompute(session, org_id)
    recorded_lots = dict((await session.execute(
        sa.select(Lot.id, Lot.quantity_remaining).where(Lot.org_id == org_id))).all())
    recorded_items = dict((await session.execute(
        sa.select(Lot.item_id, sa.func.sum(Lot.quantity_remaining))
        .where(Lot.org_id == org_id).group_by(Lot.item_id))).all())
    in_lots = {item_id: total - balance.unlotted.get(item_id, ZERO)
               for item_id, total in balance.items.items()}
    found = [
        Discrepancy("lot", lot_id, Decimal(recorded_lots.get(lot_id, ZERO)),
                    balance.lots.get(lot_id, ZERO))
        for lot_id in sorted(set(recorded_lots) | set(balance.lots))
        if Decimal(recorded_lots.get(lot_id, ZERO)) != balance.lots.get(lot_id, ZERO)
    ]
    found += [
        Discrepancy("item", item_id, Decimal(recorded_items.get(item_id, ZERO)),
                    in_lots.get(item_id, ZERO))
        for item_id in sorted(set(recorded_items) | set(in_lots))
        if Decimal(recorded_items.get(item_id, ZERO)) != in_lots.get(item_id, ZERO)
    ]
    return found
