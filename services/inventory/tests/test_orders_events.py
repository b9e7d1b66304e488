"""Channel orders: `OrderReceived` sells by SKU, FIFO, oversells rather than refuses, and
takes effect once; `OrderCancelled` puts the stock back into the exact lots."""

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

import inventory.orders  # noqa: F401  (registers the order handlers until app.py imports it)
from contracts import OrderCancelled, OrderReceived
from contracts.integrations import OrderLine
from inventory.models import Lot, Movement
from inventory.stock import ledger
from inventory.testing import product, restock
from servicekit.messaging.tables import outbox
from servicekit.messaging.transport import Verdict
from servicekit.testing.service import deliver, envelope_for

ITEMS = "/api/v1/inventory/items"
RESERVATIONS = "/api/v1/inventory/reservations"
CHANNEL = uuid.uuid4()


async def remaining(app: FastAPI, *lot_ids: uuid.UUID) -> list[Decimal]:
    async with app.state.db.sessionmaker() as session:
        found = dict((await session.execute(sa.select(Lot.id, Lot.quantity_remaining).where(
            Lot.id.in_(lot_ids)))).all())
    return [found[lot_id] for lot_id in lot_ids]


async def order_movements(app: FastAPI, org: uuid.UUID,
                          order_id: uuid.UUID) -> list[tuple[str, uuid.UUID | None, Decimal]]:
    async with app.state.db.sessionmaker() as session:
        rows = await session.execute(
            sa.select(Movement.kind, Movement.lot_id, Movement.quantity)
            .where(Movement.org_id == org, Movement.order_id == order_id)
            .order_by(Movement.id))
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def events(app: FastAPI, org: uuid.UUID, name: str) -> list[dict[str, Any]]:
    async with app.state.db.sessionmaker() as session:
        rows = (await session.execute(
            sa.select(outbox.c.routing_key, outbox.c.body)
            .where(outbox.c.org_id == str(org)).order_by(outbox.c.id))).all()
    return [json.loads(row.body)["data"] for row in rows if f".{name}." in row.routing_key]


def received(order_id: uuid.UUID, *lines: tuple[str, int]) -> OrderReceived:
    return OrderReceived(
        order_id=order_id, channel_id=CHANNEL, channel_type="shopify",
        external_order_id=f"#{order_id.hex[:4]}", placed_at=datetime.now(UTC),
        lines=tuple(OrderLine(sku=sku, quantity=Decimal(q)) for sku, q in lines))


def cancelled(order_id: uuid.UUID, *lines: tuple[str, int]) -> OrderCancelled:
    return OrderCancelled(
        order_id=order_id, channel_id=CHANNEL, external_order_id=f"#{order_id.hex[:4]}",
        lines=tuple(OrderLine(sku=sku, quantity=Decimal(q)) for sku, q in lines) or None)


async def test_an_order_sells_each_line_fifo_across_lots(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    lavender, rose = await product(client, headers, "LAV"), await product(client, headers,
                                                                          "ROSE")
    old = await restock(app, org, lavender, "2", "1.00", days_ago=3)
    new = await restock(app, org, lavender, "5", "2.00", days_ago=1)
    rose_lot = await restock(app, org, rose, "4")
    order = uuid.uuid4()

    outcome = await deliver(app, envelope_for(received(order, ("LAV", 3), ("ROSE", 1)), org))

    assert outcome.verdict == Verdict.ACK
    assert await order_movements(app, org, order) == [
        ("sale", old, -2), ("sale", new, -1), ("sale", rose_lot, -1)]
    assert await remaining(app, old, new, rose_lot) == [0, 4, 3]
    changes = {e["sku"]: e for e in await events(app, org, "StockLevelChanged")
               if e["cause"] == "order_received"}
    assert (changes["LAV"]["available"], changes["ROSE"]["available"]) == ("4", "3")


async def test_an_order_beyond_the_stock_is_recorded_as_oversold_not_refused(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    lavender = await product(client, headers, "LAV", low_stock_threshold=1)
    lot = await restock(app, org, lavender, "3", "2.50")
    first, second = uuid.uuid4(), uuid.uuid4()

    assert (await deliver(app, envelope_for(received(first, ("LAV", 5)), org))).verdict \
        == Verdict.ACK
    assert (await deliver(app, envelope_for(received(second, ("LAV", 2)), org))).verdict \
        == Verdict.ACK

    assert await order_movements(app, org, first) == [("sale", lot, -3), ("sale", None, -2)]
    assert await order_movements(app, org, second) == [("sale", None, -2)]
    assert await remaining(app, lot) == [0]
    async with app.state.db.sessionmaker() as session:
        oversold = await session.scalar(sa.select(Movement).where(
            Movement.order_id == first, Movement.lot_id.is_(None)))
        balance = await ledger.recompute(session, org)
        disagreements = await ledger.discrepancies(session, org)
    assert [d for d in disagreements if d.kind == "lot"] == []  # no lot went below zero
    assert (oversold.unit_cost, oversold.cost) == (Decimal("2.5"), Decimal("-5"))
    assert "oversold 2 bars" in (oversold.reason or "")
    assert balance.items[uuid.UUID(lavender)] == -4  # the ledger knows what was oversold
    alerts = await events(app, org, "LowStockDetected")
    assert len(alerts) == 2  # one per oversold order
    assert all(Decimal(a["available"]) <= 0 for a in alerts)
    assert any(e["cause"] == "order_received" for e in await events(app, org,
                                                                     "StockLevelChanged"))


async def test_an_order_leaves_stock_reserved_for_customers_in_the_lots(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    lavender = await product(client, headers, "LAV")
    lot = await restock(app, org, lavender, "5")
    held = await client.post(RESERVATIONS, headers=headers,
                             json={"item_id": lavender, "quantity": 2})
    order = uuid.uuid4()

    await deliver(app, envelope_for(received(order, ("LAV", 4)), org))

    assert await order_movements(app, org, order) == [("sale", lot, -3), ("sale", None, -1)]
    fulfilled = await client.post(f"{RESERVATIONS}/{held.json()['id']}/fulfill",
                                  headers=headers)
    assert fulfilled.status_code == 200, fulfilled.text


async def test_a_line_with_an_unknown_sku_does_not_hold_up_the_others(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    lavender = await product(client, headers, "LAV")
    lot = await restock(app, org, lavender, "5")
    order = uuid.uuid4()

    outcome = await deliver(app, envelope_for(received(order, ("NO-SUCH-SKU", 1),
                                                       ("LAV", 2)), org))

    assert outcome.verdict == Verdict.ACK
    assert await order_movements(app, org, order) == [("sale", lot, -2)]


async def test_an_order_delivered_again_deducts_once(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    lavender = await product(client, headers, "LAV")
    lot = await restock(app, org, lavender, "5")
    order = uuid.uuid4()
    envelope = envelope_for(received(order, ("LAV", 2)), org)

    await deliver(app, envelope)
    again = await deliver(app, envelope, attempt=2)
    # The same order under another event id (a webhook and a poll both saw it).
    other = await deliver(app, envelope_for(received(order, ("LAV", 2)), org))

    assert (again.verdict, other.verdict) == (Verdict.ACK, Verdict.ACK)
    assert await order_movements(app, org, order) == [("sale", lot, -2)]
    assert await remaining(app, lot) == [3]


async def test_a_cancelled_order_returns_its_stock_to_the_exact_lots_once(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    lavender = await product(client, headers, "LAV")
    old = await restock(app, org, lavender, "2", days_ago=2)
    new = await restock(app, org, lavender, "1", days_ago=1)
    order = uuid.uuid4()
    await deliver(app, envelope_for(received(order, ("LAV", 4)), org))
    assert await remaining(app, old, new) == [0, 0]

    outcome = await deliver(app, envelope_for(cancelled(order), org))
    await deliver(app, envelope_for(cancelled(order), org))  # cancelled again, another id

    assert outcome.verdict == Verdict.ACK
    assert await remaining(app, old, new) == [2, 1]
    returns = [m for m in await order_movements(app, org, order) if m[0] == "sale_return"]
    assert sorted(returns, key=str) == sorted(
        [("sale_return", old, 2), ("sale_return", new, 1), ("sale_return", None, 1)], key=str)
    async with app.state.db.sessionmaker() as session:
        balance = await ledger.recompute(session, org)
    assert balance.items[uuid.UUID(lavender)] == 3
    assert any(e["cause"] == "order_cancelled" for e in await events(app, org,
                                                                     "StockLevelChanged"))


async def test_cancelling_some_lines_returns_the_stock_taken_last_first(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    lavender, rose = await product(client, headers, "LAV"), await product(client, headers,
                                                                          "ROSE")
    old = await restock(app, org, lavender, "2", days_ago=2)
    new = await restock(app, org, lavender, "5", days_ago=1)
    rose_lot = await restock(app, org, rose, "5")
    order = uuid.uuid4()
    await deliver(app, envelope_for(received(order, ("LAV", 3), ("ROSE", 2)), org))

    await deliver(app, envelope_for(cancelled(order, ("LAV", 2)), org))

    assert await remaining(app, old, new, rose_lot) == [1, 5, 3]


async def test_an_order_touches_only_its_own_organizations_stock(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    mint_token: Callable[..., str],
) -> None:
    other = uuid.uuid4()
    theirs_headers = {"Authorization": f"Bearer {mint_token(org_id=other)}"}
    mine = await restock(app, org, await product(client, headers, "LAV"), "5")
    theirs = await restock(app, other, await product(client, theirs_headers, "LAV"), "5")
    order = uuid.uuid4()

    await deliver(app, envelope_for(received(order, ("LAV", 2)), other))
    await deliver(app, envelope_for(cancelled(order), org))  # not this org's order

    assert await remaining(app, mine, theirs) == [5, 3]
    assert await order_movements(app, org, order) == []
