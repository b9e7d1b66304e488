"""Which lots a quantity comes from: FIFO or FEFO picking, all or nothing. Pure; no I/O.

Quantities are exact decimals in the item's default unit, held to the ledger's scale of eight
decimal places (`on_scale`), so what is picked here is exactly what the database stores.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from servicekit.decimals import ZERO, on_scale

ConsumptionOrder = Literal["fifo", "fefo"]
SkipReason = Literal["expired", "quarantined"]

@dataclass(frozen=True, slots=True)
class LotStock:
    """What picking needs of a lot."""

    id: uuid.UUID
    lot_number: str
    quantity: Decimal  # remaining, in the item's default unit
    unit_cost: Decimal  # per one default unit
    received_at: datetime
    expires_at: datetime | None = None
    quarantined: bool = False

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True, slots=True)
class Pick:
    lot: LotStock
    quantity: Decimal

    @property
    def cost(self) -> Decimal:
        return on_scale(self.quantity * self.lot.unit_cost)


@dataclass(frozen=True, slots=True)
class Skip:
    """A lot with stock that picking passed over, and why."""

    lot: LotStock
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class Picking:
    """The quantity is covered: take `picks`, in order."""

    picks: tuple[Pick, ...]
    skipped: tuple[Skip, ...] = ()

    @property
    def quantity(self) -> Decimal:
        return sum((p.quantity for p in self.picks), ZERO)

    @property
    def cost(self) -> Decimal:
        return sum((p.cost for p in self.picks), ZERO)


@dataclass(frozen=True, slots=True)
class Shortfall:
    """The quantity is not covered; nothing may be taken.

    `available` is what could be taken (usable lots less what must be kept); it is negative
    when reservations exceed the usable stock. `expired_only` says the only stock left is in
    expired lots.
    """

    needed: Decimal
    available: Decimal
    expired_only: bool
    skipped: tuple[Skip, ...] = ()

    @property
    def missing(self) -> Decimal:
        return self.needed - self.available


def consumption_sequence(lots: Iterable[LotStock], order: ConsumptionOrder) -> list[LotStock]:
    """Lots in the order consumption takes them.

    FIFO: oldest received first. FEFO: earliest expiry first, lots that never expire last,
    then oldest received. The lot id breaks ties, so the order is total and repeatable.
    """
    if order == "fefo":
        # For lots without expiry the second key is a stand-in of the same type; the first
        # key has already put them last.
        return sorted(lots, key=lambda lot: (lot.expires_at is None,
                                             lot.expires_at or lot.received_at,
                                             lot.received_at, lot.id))
    return sorted(lots, key=lambda lot: (lot.received_at, lot.id))


def pick(lots: Iterable[LotStock], quantity: Decimal, *, now: datetime,
         order: ConsumptionOrder = "fifo", keep: Decimal = ZERO) -> Picking | Shortfall:
    """Cover `quantity` from `lots`, or say why not.

    Expired and quarantined lots are skipped (and reported). `keep` is stock that must stay
    behind (reserved for customers); it is left in the lots taken last.
    """
    if quantity <= 0:
        raise ValueError("a quantity to pick must be positive")
    usable: list[LotStock] = []
    skipped: list[Skip] = []
    for lot in consumption_sequence(lots, order):
        if lot.quantity <= 0:
            continue
        if lot.quarantined:
            skipped.append(Skip(lot, "quarantined"))
        elif lot.is_expired(now):
            skipped.append(Skip(lot, "expired"))
        else:
            usable.append(lot)
    available = sum((lot.quantity for lot in usable), ZERO) - keep
    if available < quantity:
        expired_only = not usable and any(s.reason == "expired" for s in skipped)
        return Shortfall(needed=quantity, available=available, expired_only=expired_only,
                         skipped=tuple(skipped))
    picks: list[Pick] = []
    still = quantity
    for lot in usable:
        take = min(lot.quantity, still)
        picks.append(Pick(lot, take))
        still -= take
        if still == 0:
            break
    return Picking(picks=tuple(picks), skipped=tuple(skipped))


def lot_number_for(day: date, token: str) -> str:
    """A generated lot number, `L-YYYYMMDD-XXXX`; `token` makes it unlikely to repeat."""
    return f"L-{day:%Y%m%d}-{token.upper()}"


def expiry_from_shelf_life(received_at: datetime, shelf_life_days: int | None) -> datetime | None:
    return received_at + timedelta(days=shelf_life_days) if shelf_life_days else None
