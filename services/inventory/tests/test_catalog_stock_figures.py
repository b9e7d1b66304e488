"""The read model's computed stock: on hand, reserved, available, low stock, the FIFO cost basis
and value; stock by location; ItemChanged and LowStockDetected carrying them."""

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from inventory.models import Location, Lot, Reservation
from servicekit.messaging.tables import outbox

ITEMS = "/api/v1/inventory/items"
NOW = datetime.now(UTC)


async def create_item(client: httpx.AsyncClient, headers: dict[str, str],
                      **body: Any) -> dict[str, Any]:
    response = await client.post(ITEMS, headers=headers,
                                 json={"type": "ingredient", "default_unit": "g", **body})
    assert response.status_code == 201, response.text
    return response.json()


async def create_location(client: httpx.AsyncClient, headers: dict[str, str],
                          name: str, kind: str = "workshop") -> str:
    response = await client.post("/api/v1/inventory/locations", headers=headers,
                                 json={"name": name, "kind": kind})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def stock(app: FastAPI, org: uuid.UUID, item: dict[str, Any], *,
                lots: list[tuple[str, str, str, int]] = (),  # type: ignore[assignment]
                reservations: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
    """Lots as (location id, remaining, unit cost, days ago received); reservations as
    (quantity, status). Quantities are in the item's default unit."""
    async with app.state.db.unit_of_work() as uow:
        for location_id, remaining, unit_cost, days_ago in lots:
            uow.session.add(Lot(
                org_id=org, item_id=uuid.UUID(item["id"]), location_id=uuid.UUID(location_id),
                lot_number=f"L-{days_ago}", source="restock",
                received_at=NOW - timedelta(days=days_ago), unit_cost=Decimal(unit_cost),
                quantity_received=Decimal(remaining) + 1, quantity_remaining=Decimal(remaining)))
        for quantity, status in reservations:
            uow.session.add(Reservation(org_id=org, item_id=uuid.UUID(item["id"]),
                                        quantity=Decimal(quantity), status=status))
        await uow.commit()


async def test_an_items_figures_come_from_its_lots_and_active_reservations(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    workshop = await create_location(client, headers, "Workshop")
    warehouse = await create_location(client, headers, "Warehouse", "warehouse")
    oil = await create_item(client, headers, name="Olive oil", low_stock_threshold=400)
    await stock(app, org, oil, lots=[
        (workshop, "0", "0.01", 30),  # used up: neither stock nor cost basis
        (workshop, "300", "0.02", 20),  # the oldest with stock left: the cost basis
        (warehouse, "200.5", "0.03", 10),
    ], reservations=[("100", "active"), ("50", "released"), ("25", "sold")])

    item = (await client.get(f"{ITEMS}/{oil['id']}", headers=headers)).json()
    assert {k: item[k] for k in ("on_hand", "reserved", "available", "low_stock",
                                 "unit_cost", "stock_value")} == {
        "on_hand": 500.5, "reserved": 100, "available": 400.5, "low_stock": False,
        "unit_cost": 0.02, "stock_value": 12.015}


async def test_an_item_is_low_when_available_stock_reaches_its_threshold(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    workshop = await create_location(client, headers, "Workshop")
    oil = await create_item(client, headers, name="Olive oil", low_stock_threshold=400)
    untracked = await create_item(client, headers, name="Water")
    await stock(app, org, oil, lots=[(workshop, "500", "0.02", 1)],
                reservations=[("100", "active")])

    listed = (await client.get(ITEMS, headers=headers)).json()["items"]
    assert [(i["name"], i["available"], i["low_stock"]) for i in listed] == [
        ("Olive oil", 400, True), ("Water", 0, False)]
    assert untracked["low_stock"] is False  # no threshold, never low


async def test_an_oversold_item_shows_negative_availability(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    workshop = await create_location(client, headers, "Workshop")
    soap = await create_item(client, headers, name="Soap", type="product",
                             default_unit="count")
    await stock(app, org, soap, lots=[(workshop, "3", "2.5", 1)],
                reservations=[("5", "active")])
    item = (await client.get(f"{ITEMS}/{soap['id']}", headers=headers)).json()
    assert (item["on_hand"], item["reserved"], item["available"]) == (3, 5, -2)


async def test_stock_by_location_spreads_reservations_over_the_lots_used_first(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    workshop = await create_location(client, headers, "Workshop")  # the first: default
    warehouse = await create_location(client, headers, "Warehouse", "warehouse")
    fba = await create_location(client, headers, "Amazon FBA", "fba")
    soap = await create_item(client, headers, name="Soap", type="product",
                             default_unit="count")
    await stock(app, org, soap, lots=[(warehouse, "10", "2", 5), (workshop, "4", "3", 1)],
                reservations=[("12", "active")])

    response = await client.get(f"{ITEMS}/{soap['id']}/stock", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["item_id"], body["unit"]) == (soap["id"], "count")
    assert [(loc["location_id"], loc["on_hand"], loc["reserved"], loc["available"],
             loc["stock_value"]) for loc in body["locations"]] == [
        (workshop, 4, 2, 2, 12),  # the default first, then by name
        (fba, 0, 0, 0, 0),
        (warehouse, 10, 10, 0, 20),
    ]
    assert body["total"] == {"on_hand": 14, "reserved": 12, "available": 2, "stock_value": 32}


async def test_listing_a_page_takes_the_same_queries_however_many_items_it_holds(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    workshop = await create_location(client, headers, "Workshop")
    for n in range(6):
        item = await create_item(client, headers, name=f"Oil {n}", low_stock_threshold=1)
        await stock(app, org, item, lots=[(workshop, "5", "1", 2), (workshop, "5", "2", 1)],
                    reservations=[("1", "active")])

    with count_statements(app) as one:
        await client.get(f"{ITEMS}?per_page=1", headers=headers)
    with count_statements(app) as six:
        page = (await client.get(f"{ITEMS}?per_page=6&low_stock=false", headers=headers)).json()
    assert len(page["items"]) == 6
    assert all(i["on_hand"] == 10 and i["unit_cost"] == 1 for i in page["items"])
    assert len(six) == len(one) == 2  # the page and its count


@contextmanager
def count_statements(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "outbox" not in statement:  # the relay polls it meanwhile
            statements.append(statement)

    engine = app.state.db.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


async def test_item_changed_carries_the_current_cost_basis_on_create_update_and_archive(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    workshop = await create_location(client, headers, "Workshop")
    oils = (await client.post("/api/v1/inventory/categories", headers=headers,
                              json={"name": "Oils"})).json()
    supplier = (await client.post("/api/v1/inventory/suppliers", headers=headers,
                                  json={"name": "Oil Co"})).json()
    oil = await create_item(client, headers, name="Olive oil", density_g_per_ml=0.91,
                            allergens=["Olive"], shelf_life_days=365,
                            category_id=oils["id"], supplier_id=supplier["id"],
                            nutrition_per_100g={"energy_kcal": 884, "salt_g": 0.01},
                            purchase_unit="gal", purchase_quantity=1, purchase_price=34.99)
    await stock(app, org, oil, lots=[(workshop, "100", "0.015", 3), (workshop, "50", "0.02", 1)])
    await client.patch(f"{ITEMS}/{oil['id']}", headers=headers, json={"low_stock_threshold": 10})
    await client.delete(f"{ITEMS}/{oil['id']}", headers=headers)

    sent = await published(app, org)
    assert [key for key, _ in sent] == ["inventory.ItemChanged.v1"] * 3
    created, updated, archived = (data for _, data in sent)
    assert created == {
        "item_id": oil["id"], "name": "Olive oil", "type": "ingredient", "sku": None,
        "default_unit": "g", "count_unit": None, "density_g_per_ml": "0.91", "unit_cost": None,
        "allergens": ["olive"], "shelf_life_days": 365, "low_stock_threshold": None,
        "archived": False, "category_name": "Oils", "supplier_name": "Oil Co",
        "nutrition_per_100g": {"energy_kcal": "884", "salt_g": "0.01"},
        "purchase_unit": "gal", "purchase_quantity": "1", "purchase_price": "34.99"}
    assert Decimal(updated["unit_cost"]) == Decimal("0.015")
    assert Decimal(updated["low_stock_threshold"]) == 10
    assert archived["archived"] is True
    assert Decimal(archived["unit_cost"]) == Decimal("0.015")
    for later in (updated, archived):  # read back from the database, not as sent
        assert (later["category_name"], later["supplier_name"]) == ("Oils", "Oil Co")
        assert {k: Decimal(v) for k, v in later["nutrition_per_100g"].items()} == {
            "energy_kcal": 884, "salt_g": Decimal("0.01")}
        assert (later["purchase_unit"], Decimal(later["purchase_quantity"]),
                Decimal(later["purchase_price"])) == ("gal", 1, Decimal("34.99"))


async def test_raising_the_threshold_above_available_stock_detects_low_stock_once(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    workshop = await create_location(client, headers, "Workshop")
    oil = await create_item(client, headers, name="Olive oil", low_stock_threshold=10)
    await stock(app, org, oil, lots=[(workshop, "100", "0.02", 1)])
    for threshold in (150, 200):  # crosses once, then stays low
        response = await client.patch(f"{ITEMS}/{oil['id']}", headers=headers,
                                      json={"low_stock_threshold": threshold})
        assert response.json()["low_stock"] is True

    low = [data for key, data in await published(app, org)
           if key == "inventory.LowStockDetected.v1"]
    assert len(low) == 1
    assert (low[0]["item_id"], Decimal(low[0]["available"]), Decimal(low[0]["threshold"]),
            low[0]["unit"]) == (oil["id"], 100, 150, "g")


async def published(app: FastAPI, org: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    async with app.state.db.sessionmaker() as session:
        rows = (await session.execute(
            sa.select(outbox.c.routing_key, outbox.c.body)
            .where(outbox.c.org_id == str(org)).order_by(outbox.c.id))).all()
    return [(row.routing_key, json.loads(row.body)["data"]) for row in rows]


async def test_a_location_row_from_another_organization_never_shows_in_stock(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    async with app.state.db.unit_of_work() as uow:
        uow.session.add(Location(org_id=uuid.uuid4(), name="Their shed", is_default=True))
        await uow.commit()
    soap = await create_item(client, headers, name="Soap", type="product", default_unit="count")
    body = (await client.get(f"{ITEMS}/{soap['id']}/stock", headers=headers)).json()
    assert body["locations"] == []
    assert body["total"] == {"on_hand": 0, "reserved": 0, "available": 0, "stock_value": 0}
