"""Items in full: every field, validation of each, SKUs, variants, filters, archiving, and the
ItemChanged event each change writes to the outbox."""

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

from inventory.models import Location, Lot, Reservation
from servicekit.messaging.tables import outbox

ITEMS = "/api/v1/inventory/items"


async def create(client: httpx.AsyncClient, headers: dict[str, str], path: str = ITEMS,
                 **body: Any) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def events(app: FastAPI, org: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    async with app.state.db.sessionmaker() as session:
        rows = (await session.execute(
            sa.select(outbox.c.routing_key, outbox.c.body)
            .where(outbox.c.org_id == str(org)).order_by(outbox.c.id))).all()
    return [(row.routing_key, json.loads(row.body)["data"]) for row in rows]


async def add_lot(app: FastAPI, org: uuid.UUID, item_id: str, remaining: str, unit_cost: str,
                  *, days_ago: int = 0) -> None:
    async with app.state.db.unit_of_work() as uow:
        location = Location(org_id=org, name=f"Shelf {uuid.uuid4().hex[:6]}")
        uow.session.add(location)
        await uow.session.flush()
        uow.session.add(Lot(
            org_id=org, item_id=uuid.UUID(item_id), location_id=location.id,
            lot_number=uuid.uuid4().hex[:8], source="restock",
            received_at=datetime.now(UTC) - timedelta(days=days_ago),
            unit_cost=Decimal(unit_cost), quantity_received=Decimal(remaining),
            quantity_remaining=Decimal(remaining)))
        await uow.commit()


OLIVE_OIL = {
    "name": "Olive oil", "type": "ingredient", "description": "Extra virgin, first press",
    "default_unit": "g", "density_g_per_ml": 0.91, "allergens": [" Olive ", "olive", "SULPHITES"],
    "nutrition_per_100g": {"energy_kcal": 884, "fat_g": 100, "salt_g": 0.01},
    "low_stock_threshold": 500.5, "shelf_life_days": 540, "consumption_order": "fefo",
}


async def test_creating_an_ingredient_keeps_every_field_with_numbers_as_json_numbers(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    category = await create(client, headers, "/api/v1/inventory/categories", name="Oils")
    supplier = await create(client, headers, "/api/v1/inventory/suppliers", name="Oil Co")
    item = await create(client, headers, **OLIVE_OIL, category_id=category["id"],
                        supplier_id=supplier["id"])

    assert item["category_id"] == category["id"]
    assert item["supplier_id"] == supplier["id"]
    assert item["density_g_per_ml"] == 0.91
    assert item["allergens"] == ["olive", "sulphites"]
    assert item["nutrition_per_100g"] == {"energy_kcal": 884, "fat_g": 100, "salt_g": 0.01}
    assert (item["low_stock_threshold"], item["shelf_life_days"]) == (500.5, 540)
    assert (item["consumption_order"], item["archived"]) == ("fefo", False)
    assert {k: item[k] for k in ("on_hand", "reserved", "available", "unit_cost",
                                 "stock_value", "low_stock")} == {
        "on_hand": 0, "reserved": 0, "available": 0, "unit_cost": None, "stock_value": 0,
        "low_stock": True}
    fetched = (await client.get(f"{ITEMS}/{item['id']}", headers=headers)).json()
    assert fetched == item


async def test_creating_a_container_and_a_product_keeps_their_own_fields(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    jar = await create(client, headers, name="Amber jar", type="container",
                       default_unit="count", capacity=120, capacity_unit="ml")
    soap = await create(client, headers, name="Lavender soap", type="product",
                        default_unit="bars", count_unit="bars", sku="SOAP-LAV", size="4 oz",
                        price="8.99")
    assert (jar["capacity"], jar["capacity_unit"]) == (120, "ml")
    assert (soap["sku"], soap["size"], soap["price"]) == ("SOAP-LAV", "4 oz", 8.99)
    assert (soap["default_unit"], soap["count_unit"]) == ("bars", "bars")


async def test_patching_changes_only_the_fields_sent_and_null_clears_one(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    item = await create(client, headers, **OLIVE_OIL)
    response = await client.patch(f"{ITEMS}/{item['id']}", headers=headers, json={
        "name": "Olive oil (pomace)", "density_g_per_ml": "0.92", "allergens": ["Nuts"],
        "shelf_life_days": None, "nutrition_per_100g": {"energy_kcal": 880},
        "consumption_order": "fifo"})
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["name"] == "Olive oil (pomace)"
    assert patched["density_g_per_ml"] == 0.92
    assert patched["allergens"] == ["nuts"]
    assert patched["shelf_life_days"] is None
    assert patched["nutrition_per_100g"] == {"energy_kcal": 880}
    assert patched["consumption_order"] == "fifo"
    assert patched["low_stock_threshold"] == 500.5
    assert patched["description"] == OLIVE_OIL["description"]


async def test_patching_a_required_field_to_null_is_refused(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    item = await create(client, headers, **OLIVE_OIL)
    response = await client.patch(f"{ITEMS}/{item['id']}", headers=headers,
                                  json={"name": None, "default_unit": None})
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]["fields"]) == {"name", "default_unit"}


async def test_archiving_hides_an_item_from_the_list_unless_archived_ones_are_asked_for(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    item = await create(client, headers, **OLIVE_OIL)
    await create(client, headers, name="Lye", type="ingredient", default_unit="g")
    response = await client.delete(f"{ITEMS}/{item['id']}", headers=headers)
    assert response.status_code == 200
    assert response.json()["archived"] is True

    listed = (await client.get(ITEMS, headers=headers)).json()
    assert [i["name"] for i in listed["items"]] == ["Lye"]
    everything = (await client.get(f"{ITEMS}?include_archived=true", headers=headers)).json()
    assert [i["name"] for i in everything["items"]] == ["Lye", "Olive oil"]
    assert (await client.get(f"{ITEMS}/{item['id']}", headers=headers)).json()["archived"]
    restored = await client.patch(f"{ITEMS}/{item['id']}", headers=headers,
                                  json={"archived": False})
    assert restored.json()["archived"] is False


async def test_archiving_an_archived_item_again_publishes_nothing_more(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    item = await create(client, headers, **OLIVE_OIL)
    for _ in range(2):
        response = await client.delete(f"{ITEMS}/{item['id']}", headers=headers)
        assert (response.status_code, response.json()["archived"]) == (200, True)
    sent = await events(app, org)
    assert [data["archived"] for _, data in sent] == [False, True]


# --- validation ------------------------------------------------------------------------------

BAD_FIELDS = [
    ({"low_stock_threshold": -1}, "low_stock_threshold"),
    ({"default_unit": "furlong"}, "default_unit"),
    ({"density_g_per_ml": 0}, "density_g_per_ml"),
    ({"low_stock_threshold": 10**13}, "low_stock_threshold"),
    ({"density_g_per_ml": 0.123456789}, "density_g_per_ml"),
    ({"density_g_per_ml": float("nan")}, "density_g_per_ml"),
    ({"low_stock_threshold": float("inf")}, "low_stock_threshold"),
    ({"shelf_life_days": -1}, "shelf_life_days"),
    ({"nutrition_per_100g": {"fat_g": -3}}, "nutrition_per_100g.fat_g"),
    ({"allergens": [""]}, "allergens.0"),
    ({"consumption_order": "lifo"}, "consumption_order"),
    ({"count_unit": "kg"}, "count_unit"),
    ({"count_unit": "bars2"}, "count_unit"),
    ({"category_id": str(uuid.uuid4())}, "category_id"),
    ({"supplier_id": str(uuid.uuid4())}, "supplier_id"),
    ({"capacity": 100, "capacity_unit": "ml"}, "capacity"),
    ({"sku": "OIL-1"}, "sku"),
    ({"price": 3}, "price"),
    ({"parent_item_id": str(uuid.uuid4())}, "parent_item_id"),
]


@pytest.mark.parametrize(("change", "field"), BAD_FIELDS,
                         ids=[f"{field}={next(iter(c.values()))}" for c, field in BAD_FIELDS])
async def test_a_bad_field_gets_a_422_naming_it_and_nothing_is_written(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    change: dict[str, Any], field: str,
) -> None:
    # Python's json writes NaN and Infinity as JavaScript does; a client may send them.
    response = await client.post(ITEMS, content=json.dumps({**OLIVE_OIL, **change}),
                                 headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["details"]["fields"]
    assert (await client.get(ITEMS, headers=headers)).json()["total"] == 0
    assert await events(app, org) == []


async def test_a_container_with_a_capacity_but_no_unit_is_refused(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    response = await client.post(ITEMS, headers=headers, json={
        "name": "Tin", "type": "container", "default_unit": "count", "capacity": 4})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"] == {
        "capacity_unit": ["capacity and capacity_unit are given together or not at all"]}


async def test_another_organizations_category_is_refused_like_an_unknown_one(
    client: httpx.AsyncClient, headers: dict[str, str], mint_token: Callable[..., str],
) -> None:
    theirs = {"Authorization": f"Bearer {mint_token(org_id=uuid.uuid4())}"}
    category = await create(client, theirs, "/api/v1/inventory/categories", name="Oils")
    response = await client.post(ITEMS, headers=headers,
                                 json={**OLIVE_OIL, "category_id": category["id"]})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"] == {
        "category_id": ["names no category of this organization"]}


async def test_every_bad_field_is_listed_at_once(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    response = await client.post(ITEMS, headers=headers, json={
        **OLIVE_OIL, "default_unit": "furlong", "sku": "X", "supplier_id": str(uuid.uuid4())})
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]["fields"]) == {
        "default_unit", "sku", "supplier_id"}


async def test_a_patch_is_checked_against_the_item_it_changes(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    soap = await create(client, headers, name="Soap", type="product", default_unit="bars",
                        count_unit="bars")
    response = await client.patch(f"{ITEMS}/{soap['id']}", headers=headers,
                                  json={"count_unit": None})
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]["fields"]) == {"default_unit"}
    response = await client.patch(f"{ITEMS}/{soap['id']}", headers=headers,
                                  json={"type": "ingredient", "sku": "S-1"})
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]["fields"]) == {"sku"}


async def test_the_default_unit_cannot_change_to_another_amount_while_lots_hold_stock(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    soap = await create(client, headers, name="Soap", type="product", default_unit="count")
    await add_lot(app, org, soap["id"], "10", "2")
    response = await client.patch(f"{ITEMS}/{soap['id']}", headers=headers,
                                  json={"default_unit": "dozen"})
    assert response.status_code == 409
    assert "default_unit" in response.json()["error"]["details"]["fields"]
    renamed = await client.patch(f"{ITEMS}/{soap['id']}", headers=headers,
                                 json={"default_unit": "bars", "count_unit": "bars"})
    assert renamed.status_code == 200
    assert renamed.json()["on_hand"] == 10


# --- names and SKUs ------------------------------------------------------------------------

async def test_a_sku_is_unique_within_an_organization_only(
    client: httpx.AsyncClient, headers: dict[str, str], mint_token: Callable[..., str],
) -> None:
    soap = {"type": "product", "default_unit": "count", "sku": "SOAP-LAV"}
    await create(client, headers, name="Lavender soap", **soap)
    response = await client.post(ITEMS, headers=headers, json={"name": "Other soap", **soap})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "RESOURCE_CONFLICT"
    assert response.json()["error"]["details"]["fields"] == {
        "sku": ["is already used by another item"]}

    other = await create(client, headers, name="Rose soap", type="product",
                         default_unit="count", sku="SOAP-ROSE")
    response = await client.patch(f"{ITEMS}/{other['id']}", headers=headers,
                                  json={"sku": "SOAP-LAV"})
    assert response.status_code == 409
    elsewhere = {"Authorization": f"Bearer {mint_token(org_id=uuid.uuid4())}"}
    await create(client, elsewhere, name="Lavender soap", **soap)


async def test_renaming_an_item_to_a_taken_name_is_a_conflict(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    await create(client, headers, name="Lye", type="ingredient", default_unit="g")
    item = await create(client, headers, **OLIVE_OIL)
    response = await client.patch(f"{ITEMS}/{item['id']}", headers=headers, json={"name": "Lye"})
    assert response.status_code == 409
    assert "name" in response.json()["error"]["details"]["fields"]


# --- variants --------------------------------------------------------------------------------

async def test_a_products_variants_are_listed_with_their_stock(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    soap = await create(client, headers, name="Lavender soap", type="product",
                        default_unit="count")
    small = await create(client, headers, name="Lavender soap - 4oz", type="product",
                         default_unit="count", sku="SOAP-LAV-4OZ", size="4 oz", price=8.99,
                         parent_item_id=soap["id"])
    await create(client, headers, name="Lavender soap - 8oz", type="product",
                 default_unit="count", sku="SOAP-LAV-8OZ", size="8 oz", price=14.5,
                 parent_item_id=soap["id"])
    await add_lot(app, org, small["id"], "15", "2.10")
    async with app.state.db.unit_of_work() as uow:
        uow.session.add(Reservation(org_id=org, item_id=uuid.UUID(small["id"]),
                                    quantity=Decimal(2), customer_name="Jane Smith"))
        await uow.commit()

    page = (await client.get(f"{ITEMS}/{soap['id']}/variants", headers=headers)).json()
    assert page["total"] == 2
    first = page["items"][0]
    assert {k: first[k] for k in ("id", "sku", "name", "price", "current_stock",
                                  "reserved_stock")} == {
        "id": small["id"], "sku": "SOAP-LAV-4OZ", "name": "Lavender soap - 4oz",
        "price": 8.99, "current_stock": 15, "reserved_stock": 2}
    assert page["items"][1]["current_stock"] == 0


async def test_only_a_product_of_ones_own_can_have_variants_one_level_deep(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    oil = await create(client, headers, **OLIVE_OIL)
    soap = await create(client, headers, name="Soap", type="product", default_unit="count")
    variant = await create(client, headers, name="Soap 4oz", type="product",
                           default_unit="count", parent_item_id=soap["id"])

    def variant_of(parent_id: str) -> dict[str, Any]:
        return {"name": "Another", "type": "product", "default_unit": "count",
                "parent_item_id": parent_id}

    for parent_id in (oil["id"], variant["id"]):
        response = await client.post(ITEMS, headers=headers, json=variant_of(parent_id))
        assert response.status_code == 422
        assert "parent_item_id" in response.json()["error"]["details"]["fields"]
    response = await client.patch(f"{ITEMS}/{soap['id']}", headers=headers,
                                  json={"type": "ingredient"})
    assert response.status_code == 422
    assert "type" in response.json()["error"]["details"]["fields"]
    response = await client.patch(f"{ITEMS}/{soap['id']}", headers=headers,
                                  json={"parent_item_id": soap["id"]})
    assert response.status_code == 422


# --- filters ---------------------------------------------------------------------------------

async def test_the_list_filters_by_type_category_supplier_stock_and_search(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oils = await create(client, headers, "/api/v1/inventory/categories", name="Oils")
    supplier = await create(client, headers, "/api/v1/inventory/suppliers", name="Oil Co")
    olive = await create(client, headers, **OLIVE_OIL, category_id=oils["id"],
                         supplier_id=supplier["id"])
    await add_lot(app, org, olive["id"], "800", "0.01")  # threshold 500.5: not low
    coconut = await create(client, headers, name="Coconut oil", type="ingredient",
                           default_unit="g", category_id=oils["id"], low_stock_threshold=100)
    await add_lot(app, org, coconut["id"], "100", "0.01")  # at the threshold: low
    await create(client, headers, name="Lye 100%", type="ingredient", default_unit="g")
    await create(client, headers, name="Soap", type="product", default_unit="count",
                 sku="SB-OLIVE-1")
    archived = await create(client, headers, name="Old olive blend", type="ingredient",
                            default_unit="g", low_stock_threshold=5)
    await client.delete(f"{ITEMS}/{archived['id']}", headers=headers)

    async def names(**params: str) -> list[str]:
        response = await client.get(ITEMS, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [i["name"] for i in response.json()["items"]]

    assert await names(type="product") == ["Soap"]
    assert await names(category_id=oils["id"]) == ["Coconut oil", "Olive oil"]
    assert await names(supplier_id=supplier["id"]) == ["Olive oil"]
    assert await names(low_stock="true") == ["Coconut oil"]
    assert await names(low_stock="false") == ["Lye 100%", "Olive oil", "Soap"]
    assert await names(low_stock="true", include_archived="true") == [
        "Coconut oil", "Old olive blend"]
    assert await names(search="OLIVE") == ["Olive oil", "Soap"]  # the soap by its SKU
    assert await names(search="100%") == ["Lye 100%"]
    assert await names(search="%") == ["Lye 100%"]  # a wildcard only as itself
    response = await client.get(ITEMS, params={"type": "gold"}, headers=headers)
    assert response.status_code == 422
