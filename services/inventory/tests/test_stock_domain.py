"""FIFO and FEFO picking, as pure rules."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from inventory.stock.domain import (
    LotStock,
    Picking,
    Shortfall,
    consumption_sequence,
    lot_number_for,
    pick,
)
from servicekit.decimals import on_scale

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def lot(number: str, quantity: str, *, days_ago: int, cost: str = "1",
        expires_in: int | None = None, quarantined: bool = False) -> LotStock:
    return LotStock(
        id=uuid.uuid4(), lot_number=number, quantity=Decimal(quantity), unit_cost=Decimal(cost),
        received_at=NOW - timedelta(days=days_ago),
        expires_at=NOW + timedelta(days=expires_in) if expires_in is not None else None,
        quarantined=quarantined,
    )


def test_fifo_takes_the_oldest_lots_first_and_splits_the_last_one() -> None:
    lots = [lot("new", "100", days_ago=1, cost="3"), lot("old", "30", days_ago=9, cost="2"),
            lot("mid", "50", days_ago=5, cost="2.5")]
    picked = pick(lots, Decimal("100"), now=NOW)
    assert isinstance(picked, Picking)
    assert [(p.lot.lot_number, p.quantity) for p in picked.picks] == [
        ("old", Decimal(30)), ("mid", Decimal(50)), ("new", Decimal(20))]
    assert picked.cost == Decimal(30 * 2) + Decimal("125") + Decimal(60)


def test_fifo_breaks_ties_on_the_lot_id() -> None:
    twins = [lot(f"t{i}", "1", days_ago=2) for i in range(5)]
    assert consumption_sequence(twins, "fifo") == sorted(twins, key=lambda x: x.id)


def test_fefo_takes_the_earliest_expiry_first_and_lots_without_expiry_last() -> None:
    lots = [lot("never", "10", days_ago=30), lot("late", "10", days_ago=20, expires_in=90),
            lot("soon", "10", days_ago=1, expires_in=3)]
    picked = pick(lots, Decimal("25"), now=NOW, order="fefo")
    assert isinstance(picked, Picking)
    assert [(p.lot.lot_number, p.quantity) for p in picked.picks] == [
        ("soon", Decimal(10)), ("late", Decimal(10)), ("never", Decimal(5))]


def test_expired_and_quarantined_lots_are_skipped_and_reported() -> None:
    expired = lot("expired", "100", days_ago=50, expires_in=0)  # expires exactly now
    held = lot("held", "100", days_ago=40, quarantined=True)
    good = lot("good", "100", days_ago=1)
    picked = pick([expired, held, good], Decimal("60"), now=NOW)
    assert isinstance(picked, Picking)
    assert [p.lot.lot_number for p in picked.picks] == ["good"]
    assert [(s.lot.lot_number, s.reason) for s in picked.skipped] == [
        ("expired", "expired"), ("held", "quarantined")]


def test_a_shortfall_takes_nothing_and_says_how_much_there_is() -> None:
    lots = [lot("a", "10", days_ago=3), lot("b", "5.5", days_ago=2),
            lot("old", "50", days_ago=90, expires_in=-1)]
    short = pick(lots, Decimal("20"), now=NOW)
    assert short == Shortfall(needed=Decimal(20), available=Decimal("15.5"), expired_only=False,
                              skipped=short.skipped)
    assert short.missing == Decimal("4.5")
    assert [s.lot.lot_number for s in short.skipped] == ["old"]


def test_a_shortfall_with_only_expired_stock_left_says_so() -> None:
    short = pick([lot("old", "500", days_ago=90, expires_in=-1)], Decimal(1), now=NOW)
    assert isinstance(short, Shortfall)
    assert short.expired_only and short.available == 0
    empty = pick([], Decimal(1), now=NOW)
    assert isinstance(empty, Shortfall) and not empty.expired_only


def test_kept_stock_stays_behind_in_the_lots_taken_last() -> None:
    lots = [lot("a", "10", days_ago=3), lot("b", "10", days_ago=2)]
    assert isinstance(pick(lots, Decimal(15), now=NOW, keep=Decimal(6)), Shortfall)
    picked = pick(lots, Decimal(14), now=NOW, keep=Decimal(6))
    assert isinstance(picked, Picking) and picked.quantity == 14


def test_empty_lots_are_neither_picked_nor_reported() -> None:
    picked = pick([lot("gone", "0", days_ago=5, expires_in=-1), lot("x", "1", days_ago=1)],
                  Decimal(1), now=NOW)
    assert isinstance(picked, Picking) and picked.skipped == ()


def test_picking_nothing_is_a_mistake() -> None:
    with pytest.raises(ValueError):
        pick([], Decimal(0), now=NOW)


def test_ledger_scale_and_generated_lot_numbers() -> None:
    assert on_scale(Decimal(1) / Decimal(3)) == Decimal("0.33333333")
    assert lot_number_for(NOW.date(), "a1f0") == "L-20260601-A1F0"
