"""One definition of an item's stock figures: the catalog's read model (GET item, its stock by
location) agrees with the stock levels behind events, counting what an order oversold (the
lot-less balance), leaving expired reservations and unusable lots out of what is available."""

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

import inventory.orders  # noqa: F401  (registers the order handlers)
from contracts import OrderCancelled, OrderReceived
from contracts.integrations import OrderLine
from inventory.catalog.service import default_location
from inventory.models import Lot, Reservation
from inventory.stock import ledger
from inventory.stock.items import get_item
from inventory.stock.levels import stock_levels
from servicekit.db import EventContext, utcnow
from servicekit.messaging.tables import outbox
from servicekit.messaging.transport import Verdict
from servicekit.testing.service import deliver, envelope_for

ITEMS = "/api/v1/inventory/items"
CHANNEL = uuid.uuid4()


@pytest.fixture
def org() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def headers(mint_token: Callable[..., str], org: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(org_id=org, role='owner')}"}


async def product(client: httpx.AsyncClient, headers: dict[str, str], sku: str,
                  **extra: Any) -> str:
    response = await client.post(ITEMS, headers=headers, json={
        "name": f"Soap {sku}", "type": "product", "default_unit": "bars",
        "count_unit": "bars", "sku": sku, **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def restock(app: FastAPI, org: uuid.UUID, item_id: str, quantity: str) -> uuid.UUID:
    async with app.state.db.unit_of_work(EventContext(org_id=org)) as uow:
        item = await get_item(uow.session, org, uuid.UUID(item_id))
        location = await default_location(uow, org)
        lot, _ = ledger.receive(uow, org, item, Decimal(quantity), unit_cost=Decimal("2"),
                                location_id=location.id,
                                provenance=ledger.Provenance(actor="test"))
        await uow.commit()
        return lot.id


async def figures(client: httpx.AsyncClient, headers: dict[str, str],
                  item_id: str) -> dict[str, Any]:
    item = (await client.get(f"{ITEMS}/{item_id}", headers=headers)).json()
    return {k: item[k] for k in ("on_hand", "reserved", "available", "low_stock")}


async def levels(app: FastAPI, org: uuid.UUID, item_id: str) -> tuple[Decimal, ...]:
    async with app.state.db.sessionmaker() as session:
        level = (await stock_levels(session, org, [uuid.UUID(item_id)], now=utcnow()))[
            uuid.UUID(item_id)]
    return level.on_hand, level.reserved, level.available


async def published(app: FastAPI, org: uuid.UUID, name: str) -> list[dict[str, Any]]:
    async with app.state.db.sessionmaker() as session:
        rows = (await session.execute(
            sa.select(outbox.c.routing_key, outbox.c.body)
            .where(outbox.c.org_id == str(org)).order_by(outbox.c.id))).all()
    return [json.loads(row.body)["data"] for row in rows if f".{name}." in row.routing_key]


def received(order_id: uuid.UUID, sku: str, quantity: int) -> OrderReceived:
    return OrderReceived(
        order_id=order_id, channel_id=CHANNEL, channel_type="shopify",
        external_order_id=f"#{order_id.hex[:4]}", placed_at=datetime.now(UTC),
        lines=(OrderLine(sku=sku, quantity=Decimal(quantity)),))


async def test_an_oversold_item_shows_negative_stock_low_and_alerted(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    soap = await product(client, headers, "LAV", low_stock_threshold=1)
    await restock(app, org, soap, "3")
    order = uuid.uuid4()

    outcome = await deliver(app, envelope_for(received(order, "LAV", 5), org))

    assert outcome.verdict == Verdict.ACK
    assert await figures(client, headers, soap) == {
        "on_hand": -2, "reserved": 0, "available": -2, "low_stock": True}
    assert await levels(app, org, soap) == (-2, 0, -2)  # events and views agree
    alerts = await published(app, org, "LowStockDetected")
    assert [(a["item_id"], Decimal(a["available"])) for a in alerts] == [
        (soap, Decimal(-2))]
    stock = (await client.get(f"{ITEMS}/{soap}/stock", headers=headers)).json()
    assert {k: stock["total"][k] for k in ("on_hand", "available")} == {
        "on_hand": -2, "available": -2}
    assert sum(loc["available"] for loc in stock["locations"]) == -2
    listed = (await client.get(f"{ITEMS}?low_stock=true", headers=headers)).json()["items"]
    assert [(i["id"], i["available"]) for i in listed] == [(soap, -2)]
    check = await client.get("/api/v1/inventory/ledger/check", headers=headers)
    assert check.status_code == 200, check.text
    assert check.json()["consistent"] is True
    async with app.state.db.sessionmaker() as session:
        assert await ledger.discrepancies(session, org) == []

    cancelled = OrderCancelled(order_id=order, channel_id=CHANNEL,
                               external_order_id=f"#{order.hex[:4]}", lines=None)
    await deliver(app, envelope_for(cancelled, org))
    assert await figures(client, headers, soap) == {
        "on_hand": 3, "reserved": 0, "available": 3, "low_stock": False}


async def test_an_expired_reservation_is_not_reserved_and_a_quarantined_lot_not_available(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    soap = await product(client, headers, "ROSE")
    await restock(app, org, soap, "10")
    held = await restock(app, org, soap, "4")
    async with app.state.db.unit_of_work() as uow:
        await uow.session.execute(sa.update(Lot).where(Lot.id == held).values(quarantined=True))
        uow.session.add_all([
            Reservation(org_id=org, item_id=uuid.UUID(soap), quantity=Decimal(3),
                        status="active", expires_at=utcnow() - timedelta(hours=1)),
            Reservation(org_id=org, item_id=uuid.UUID(soap), quantity=Decimal(2),
                        status="active", expires_at=utcnow() + timedelta(hours=1)),
        ])
        await uow.commit()

    assert await figures(client, headers, soap) == {
        "on_hand": 14, "reserved": 2, "available": 8, "low_stock": False}
    assert await levels(app, org, soap) == (14, 2, 8)
    stock = (await client.get(f"{ITEMS}/{soap}/stock", headers=headers)).json()
    assert stock["total"] == {"on_hand": 14, "reserved": 2, "available": 8, "stock_value": 28}
