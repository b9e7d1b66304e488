"""Reservations: product stock held for a customer, released, or turned into a FIFO sale."""

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from inventory.models import Lot, Movement
from inventory.stock import ledger
from inventory.stock.items import get_item
from inventory.testing import product, restock
from servicekit.db import EventContext, utcnow
from servicekit.messaging.tables import outbox

ITEMS = "/api/v1/inventory/items"
RESERVATIONS = "/api/v1/inventory/reservations"


async def remaining(app: FastAPI, lot_id: uuid.UUID) -> Decimal:
    async with app.state.db.sessionmaker() as session:
        return await session.scalar(sa.select(Lot.quantity_remaining).where(Lot.id == lot_id))


async def movements(app: FastAPI, org: uuid.UUID, kind: str) -> list[Movement]:
    async with app.state.db.sessionmaker() as session:
        return list(await session.scalars(sa.select(Movement).where(
            Movement.org_id == org, Movement.kind == kind).order_by(Movement.id)))


async def events(app: FastAPI, org: uuid.UUID, name: str) -> list[dict[str, Any]]:
    async with app.state.db.sessionmaker() as session:
        rows = (await session.execute(
            sa.select(outbox.c.routing_key, outbox.c.body)
            .where(outbox.c.org_id == str(org)).order_by(outbox.c.id))).all()
    return [json.loads(row.body)["data"] for row in rows if f".{name}." in row.routing_key]


async def reserve(client: httpx.AsyncClient, headers: dict[str, str], product_id: str,
                  quantity: Any, **extra: Any) -> httpx.Response:
    return await client.post(RESERVATIONS, headers=headers, json={
        "product_sku_id": product_id, "quantity": quantity, "customer_name": "Jane Smith",
        "notes": "Wedding favors order", **extra})


async def test_a_reservation_holds_stock_and_lowers_what_is_available(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    soap = await product(client, headers, "SOAP-LAV-4OZ")
    await restock(app, org, soap, "15")

    response = await reserve(client, headers, soap, 3, order_reference="WED-7")

    assert response.status_code == 201, response.text
    held = response.json()
    assert (held["item_id"], held["quantity"], held["unit"], held["status"]) == (
        soap, 3, "bars", "active")
    assert (held["customer_name"], held["order_reference"]) == ("Jane Smith", "WED-7")
    item = (await client.get(f"{ITEMS}/{soap}", headers=headers)).json()
    assert (item["on_hand"], item["reserved"], item["available"]) == (15, 3, 12)
    [hold] = await movements(app, org, "reservation_hold")
    assert (hold.quantity, hold.lot_id, str(hold.reservation_id)) == (-3, None, held["id"])
    [change] = [e for e in await events(app, org, "StockLevelChanged")
                if e["cause"] == "reservation_created"]
    assert (change["available"], change["reserved"], change["sku"]) == ("12", "3",
                                                                        "SOAP-LAV-4OZ")


async def test_a_reservation_beyond_the_available_stock_is_refused(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    soap = await product(client, headers, "SOAP-1")
    await restock(app, org, soap, "10")
    assert (await reserve(client, headers, soap, 8)).status_code == 201

    response = await reserve(client, headers, soap, 3)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "STOCK_INSUFFICIENT"
    assert (error["details"]["available"], error["details"]["shortage"]) == (2, 1)
    listed = (await client.get(RESERVATIONS, headers=headers)).json()
    assert listed["total"] == 1
    assert len(await movements(app, org, "reservation_hold")) == 1


async def test_releasing_a_reservation_makes_its_stock_available_again_once(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    soap = await product(client, headers, "SOAP-1")
    await restock(app, org, soap, "10")
    held = (await reserve(client, headers, soap, 4)).json()

    response = await client.post(f"{RESERVATIONS}/{held['id']}/release", headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "released"
    item = (await client.get(f"{ITEMS}/{soap}", headers=headers)).json()
    assert (item["reserved"], item["available"]) == (0, 10)
    [release] = await movements(app, org, "reservation_release")
    assert (release.quantity, str(release.reservation_id)) == (4, held["id"])
    assert [e["available"] for e in await events(app, org, "StockLevelChanged")
            if e["cause"].startswith("reservation")] == ["6", "10"]
    again = await client.post(f"{RESERVATIONS}/{held['id']}/release", headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "RESERVATION_NOT_ACTIVE"


async def test_concurrent_reservations_never_promise_more_than_there_is(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    soap = await product(client, headers, "SOAP-1")
    await restock(app, org, soap, "3", days_ago=1)
    await restock(app, org, soap, "2")

    responses = await asyncio.gather(*(reserve(client, headers, soap, 1) for _ in range(12)))

    assert sorted(r.status_code for r in responses) == [201] * 5 + [409] * 7
    item = (await client.get(f"{ITEMS}/{soap}", headers=headers)).json()
    assert (item["reserved"], item["available"]) == (5, 0)


async def test_fulfilling_a_reservation_sells_it_fifo_from_the_oldest_lot(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    soap = await product(client, headers, "SOAP-1")
    old = await restock(app, org, soap, "2", "1.00", days_ago=5)
    new = await restock(app, org, soap, "5", "1.50", days_ago=1)
    held = (await reserve(client, headers, soap, 3)).json()

    response = await client.post(f"{RESERVATIONS}/{held['id']}/fulfill", headers=headers)

    assert response.status_code == 200, response.text
    sold = response.json()
    assert sold["reservation"]["status"] == "sold"
    assert [(m["lot_id"], m["kind"], m["quantity"]) for m in sold["movements"]] == [
        (str(old), "sale", -2), (str(new), "sale", -1)]
    assert sold["total_cost"] == 3.5
    assert (await remaining(app, old), await remaining(app, new)) == (0, 4)
    item = (await client.get(f"{ITEMS}/{soap}", headers=headers)).json()
    assert (item["on_hand"], item["reserved"], item["available"]) == (4, 0, 4)
    assert all(str(m.reservation_id) == held["id"] for m in await movements(app, org, "sale"))
    again = await client.post(f"{RESERVATIONS}/{held['id']}/fulfill", headers=headers)
    assert again.status_code == 409


async def test_fulfilling_cannot_take_stock_held_for_another_customer(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    soap = await product(client, headers, "SOAP-1")
    lot = await restock(app, org, soap, "5")
    first = (await reserve(client, headers, soap, 3)).json()
    assert (await reserve(client, headers, soap, 2)).status_code == 201
    async with app.state.db.unit_of_work(EventContext(org_id=org)) as uow:  # 2 bars broke
        item = await get_item(uow.session, org, uuid.UUID(soap))
        await ledger.consume(uow, org, item, Decimal(2), kind="spoil",
                             provenance=ledger.Provenance(actor="test"))
        await uow.commit()

    response = await client.post(f"{RESERVATIONS}/{first['id']}/fulfill", headers=headers)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "STOCK_INSUFFICIENT"
    assert await remaining(app, lot) == 3
    still = (await client.get(f"{RESERVATIONS}/{first['id']}", headers=headers)).json()
    assert still["status"] == "active"


async def test_reservations_list_by_status_and_item_and_show_expired_ones(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    soap, candle = await product(client, headers, "SOAP-1"), await product(client, headers,
                                                                           "CANDLE-1")
    await restock(app, org, soap, "10")
    await restock(app, org, candle, "10")
    soon = (utcnow() + timedelta(seconds=1)).isoformat()
    expiring = (await reserve(client, headers, soap, 1, expires_at=soon)).json()
    await reserve(client, headers, soap, 2)
    released = (await reserve(client, headers, candle, 3)).json()
    await client.post(f"{RESERVATIONS}/{released['id']}/release", headers=headers)
    async with app.state.db.unit_of_work() as uow:  # time passes
        await uow.session.execute(sa.text(
            "UPDATE reservation SET expires_at = now() - interval '1 minute' WHERE id = :id"
        ), {"id": expiring["id"]})
        await uow.commit()

    async def listed(**params: str) -> list[tuple[str, int]]:
        response = await client.get(RESERVATIONS, headers=headers, params=params)
        assert response.status_code == 200, response.text
        return sorted((r["status"], r["quantity"]) for r in response.json()["items"])

    assert await listed() == [("active", 2), ("expired", 1), ("released", 3)]
    assert await listed(status="active") == [("active", 2)]
    assert await listed(status="expired") == [("expired", 1)]
    assert await listed(item_id=candle) == [("released", 3)]
    lots = (await client.get(f"{ITEMS}/{soap}/lots", headers=headers)).json()
    assert (lots["reserved"], lots["total_available"]) == (2, 8)  # an expired hold holds none


async def test_only_products_can_be_reserved_and_bad_input_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil = (await client.post(ITEMS, headers=headers, json={
        "name": "Olive oil", "type": "ingredient", "default_unit": "g"})).json()["id"]
    await restock(app, org, oil, "1000")
    soap = await product(client, headers, "SOAP-1")
    await restock(app, org, soap, "10")

    assert (await reserve(client, headers, oil, 1)).status_code == 422
    assert (await reserve(client, headers, str(uuid.uuid4()), 1)).status_code == 404
    for bad in ({"quantity": 0}, {"quantity": -1}, {"unit": "parsecs"},
                {"expires_at": "2001-01-01T00:00:00Z"}, {"item_id": str(uuid.uuid4())},
                {"surprise": True}):
        response = await reserve(client, headers, soap, **{"quantity": 1, **bad})
        assert response.status_code in (404, 422), (bad, response.text)
    assert (await client.get(RESERVATIONS, headers=headers)).json()["total"] == 0


async def test_another_organizations_reservations_and_products_are_not_found(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    mint_token: Callable[..., str],
) -> None:
    soap = await product(client, headers, "SOAP-1")
    await restock(app, org, soap, "10")
    held = (await reserve(client, headers, soap, 1)).json()
    stranger = {"Authorization": f"Bearer {mint_token(org_id=uuid.uuid4())}"}

    assert (await client.get(f"{RESERVATIONS}/{held['id']}", headers=stranger)).status_code \
        == 404
    for action in ("release", "fulfill"):
        response = await client.post(f"{RESERVATIONS}/{held['id']}/{action}", headers=stranger)
        assert response.status_code == 404
    assert (await reserve(client, stranger, soap, 1)).status_code == 404
    assert (await client.get(RESERVATIONS, headers=stranger)).json()["total"] == 0
    mine = (await client.get(f"{RESERVATIONS}/{held['id']}", headers=headers)).json()
    assert mine["status"] == "active"


async def test_the_same_idempotency_key_reserves_once(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    soap = await product(client, headers, "SOAP-1")
    await restock(app, org, soap, "10")
    keyed = {**headers, "Idempotency-Key": "wedding-7"}

    first = await client.post(RESERVATIONS, headers=keyed,
                              json={"item_id": soap, "quantity": 4})
    second = await client.post(RESERVATIONS, headers=keyed,
                               json={"item_id": soap, "quantity": 4})

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert (await client.get(RESERVATIONS, headers=headers)).json()["total"] == 1
