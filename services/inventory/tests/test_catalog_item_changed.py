"""ItemChanged as the recipes service's read model needs it: the item's category and supplier
by name (republished for every item of one renamed), its nutrition as numbers, its purchase
pack; and many items published at once read in one statement, not one per item."""

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from inventory.catalog.events import hold_names, publish_item_changes
from inventory.models import Category, Item
from inventory.testing import make_item, restock_by_adjustment
from servicekit.messaging.tables import outbox

API = "/api/v1/inventory"
ITEMS = f"{API}/items"
ITEM_CHANGED = "inventory.ItemChanged.v1"


async def create(client: httpx.AsyncClient, headers: dict[str, str], what: str,
                 **body: Any) -> dict[str, Any]:
    response = await client.post(f"{API}/{what}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def items_changed(app: FastAPI, org: uuid.UUID) -> list[dict[str, Any]]:
    async with app.state.db.sessionmaker() as session:
        rows = (await session.execute(
            sa.select(outbox.c.body)
            .where(outbox.c.org_id == str(org), outbox.c.routing_key == ITEM_CHANGED)
            .order_by(outbox.c.id))).all()
    return [json.loads(row.body)["data"] for row in rows]


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


async def test_item_changed_names_the_category_and_supplier_and_carries_the_pack(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oils = await create(client, headers, "categories", name="Oils")
    supplier = await create(client, headers, "suppliers", name="Oil Co")
    oil = await create(client, headers, "items", name="Olive oil", type="ingredient",
                       default_unit="g", density_g_per_ml=0.91, category_id=oils["id"],
                       supplier_id=supplier["id"], purchase_unit="gal", purchase_quantity=1,
                       purchase_price=34.99)
    await client.patch(f"{ITEMS}/{oil['id']}", headers=headers,
                       json={"category_id": None, "supplier_id": None})

    created, moved_out = await items_changed(app, org)
    assert (created["category_name"], created["supplier_name"]) == ("Oils", "Oil Co")
    assert (created["purchase_unit"], Decimal(created["purchase_quantity"]),
            Decimal(created["purchase_price"])) == ("gal", 1, Decimal("34.99"))
    assert (moved_out["category_name"], moved_out["supplier_name"]) == (None, None)


async def test_item_changed_carries_only_the_numbers_of_the_stored_nutrition(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    # Written straight to the table: the API itself accepts numbers only.
    oil = await make_item(app, org, name="Olive oil", nutrition_per_100g={
        "energy_kcal": 884, "salt_g": 0.01, "fat_g": "100", "sugar_g": "trace",
        "organic": True, "vitamins": ["E", "K"], "iron_mg": None})
    plain = await make_item(app, org, name="Water")
    for item in (oil, plain):
        response = await client.patch(f"{ITEMS}/{item}", headers=headers,
                                      json={"description": "republished"})
        assert response.status_code == 200, response.text

    with_nutrition, without = await items_changed(app, org)
    assert with_nutrition["nutrition_per_100g"] == {
        "energy_kcal": "884", "salt_g": "0.01", "fat_g": "100"}
    assert without["nutrition_per_100g"] is None


@pytest.mark.parametrize(("what", "field", "name_field"), [
    ("categories", "category_id", "category_name"),
    ("suppliers", "supplier_id", "supplier_name"),
])
async def test_renaming_publishes_item_changed_for_each_of_its_items_with_the_new_name(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    what: str, field: str, name_field: str,
) -> None:
    renamed = await create(client, headers, what, name="Oils")
    other = await create(client, headers, what, name="Lye")
    olive = await create(client, headers, "items", name="Olive oil", type="ingredient",
                         default_unit="g", **{field: renamed["id"]})
    coconut = await create(client, headers, "items", name="Coconut oil", type="ingredient",
                           default_unit="g", **{field: renamed["id"]})
    await client.delete(f"{ITEMS}/{coconut['id']}", headers=headers)  # archived: still its
    await create(client, headers, "items", name="Sodium hydroxide", type="ingredient",
                 default_unit="g", **{field: other["id"]})
    await create(client, headers, "items", name="Water", type="ingredient", default_unit="ml")
    published = len(await items_changed(app, org))

    response = await client.patch(f"{API}/{what}/{renamed['id']}", headers=headers,
                                  json={"name": "Oils and butters"})
    assert response.status_code == 200, response.text

    sent = (await items_changed(app, org))[published:]
    assert [(e["item_id"], e[name_field], e["archived"]) for e in sent] == [
        (coconut["id"], "Oils and butters", True), (olive["id"], "Oils and butters", False)]


async def test_an_item_published_while_its_category_is_renamed_waits_and_gets_the_new_name(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oils = await create(client, headers, "categories", name="Oils")
    olive = await create(client, headers, "items", name="Olive oil", type="ingredient",
                         default_unit="g", category_id=oils["id"])
    async with app.state.db.unit_of_work() as uow:
        # A rename between its publishing and its commit, as `update_category` makes it.
        await hold_names(uow, org, renaming=True)
        category = await uow.session.get(Category, uuid.UUID(oils["id"]))
        assert category is not None
        category.name = "Oils and fats"
        await uow.session.flush()
        await publish_item_changes(uow, org, Item.category_id == category.id)
        edit = asyncio.create_task(client.patch(
            f"{ITEMS}/{olive['id']}", headers=headers, json={"description": "Cold pressed"}))
        await asyncio.sleep(0.2)
        assert not edit.done()  # it would read the old name, after the rename's event
        await uow.commit()
    assert (await edit).status_code == 200

    assert [e["category_name"] for e in await items_changed(app, org)] == [
        "Oils", "Oils and fats", "Oils and fats"]


async def test_a_change_that_keeps_the_name_publishes_nothing(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oils = await create(client, headers, "categories", name="Oils")
    await create(client, headers, "items", name="Olive oil", type="ingredient",
                 default_unit="g", category_id=oils["id"])
    for change in ({"description": "Carrier oils"}, {"name": "Oils"}):
        response = await client.patch(f"{API}/categories/{oils['id']}", headers=headers,
                                      json=change)
        assert response.status_code == 200, response.text
    assert len(await items_changed(app, org)) == 1  # the item's creation


async def test_a_rename_to_a_taken_name_publishes_nothing(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oils = await create(client, headers, "suppliers", name="Oil Co")
    await create(client, headers, "suppliers", name="Lye Co")
    await create(client, headers, "items", name="Olive oil", type="ingredient",
                 default_unit="g", supplier_id=oils["id"])
    response = await client.patch(f"{API}/suppliers/{oils['id']}", headers=headers,
                                  json={"name": "Lye Co"})
    assert response.status_code == 409
    assert len(await items_changed(app, org)) == 1


@pytest.mark.parametrize(("what", "field"), [("categories", "category_id"),
                                             ("suppliers", "supplier_id")])
async def test_what_only_an_archived_item_names_is_not_deleted(
    client: httpx.AsyncClient, headers: dict[str, str], what: str, field: str,
) -> None:
    named = await create(client, headers, what, name="Oils")
    item = await create(client, headers, "items", name="Olive oil", type="ingredient",
                        default_unit="g", **{field: named["id"]})
    await client.delete(f"{ITEMS}/{item['id']}", headers=headers)
    response = await client.delete(f"{API}/{what}/{named['id']}", headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["details"]["referenced_by"]["items"] == 1


async def test_items_republished_at_once_are_read_in_one_statement_however_many(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oils = await create(client, headers, "categories", name="Oils")
    supplier = await create(client, headers, "suppliers", name="Oil Co")
    items = [await make_item(app, org, name=f"Oil {n}", category_id=uuid.UUID(oils["id"]),
                             supplier_id=uuid.UUID(supplier["id"])) for n in range(8)]

    async def restock(batch: list[uuid.UUID]) -> list[str]:
        with count_statements(app) as statements:
            response = await client.post(f"{API}/adjustments", headers=headers, json={
                "adjustments": [{"item_id": str(item), "adjustment_type": "restock",
                                 "quantity": 10, "cost_per_unit": 2} for item in batch]})
            assert response.status_code == 200, response.text
        return statements

    await restock_by_adjustment(client, headers, items[0], 1)  # the org's default location
    one, six = await restock(items[1:2]), await restock(items[2:])

    def reading_items(statements: list[str]) -> list[str]:
        return [s for s in statements if "FROM item" in s]

    assert len(reading_items(six)) == len(reading_items(one))
    assert sum("category.name" in s for s in six) == 1  # the names, for all six at once
    sent = (await items_changed(app, org))[-6:]  # the first restock of each set its cost
    assert sorted(e["item_id"] for e in sent) == sorted(str(i) for i in items[2:])
    assert {(e["category_name"], e["supplier_name"]) for e in sent} == {("Oils", "Oil Co")}
