"""Categories, suppliers and locations: CRUD by page, names unique per organization, nothing
deleted while referenced, and exactly one default location."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from inventory.catalog.service import default_location
from inventory.models import Location, Lot

API = "/api/v1/inventory"


@pytest.fixture
def org() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def headers(mint_token: Callable[..., str], org: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(org_id=org, role='manager')}"}


async def create(client: httpx.AsyncClient, headers: dict[str, str], what: str,
                 **body: Any) -> dict[str, Any]:
    response = await client.post(f"{API}/{what}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(("what", "body", "change"), [
    ("categories", {"name": "Oils", "description": "Carrier oils"}, {"description": None}),
    ("suppliers", {"name": "Oil Co", "email": "sales@oil.example", "phone": "+44 1234",
                   "website": "https://oil.example", "notes": "Net 30"}, {"phone": "+44 999"}),
    ("locations", {"name": "Unit 4", "kind": "warehouse"}, {"kind": "other"}),
])
async def test_a_reference_is_created_read_listed_changed_and_deleted(
    client: httpx.AsyncClient, headers: dict[str, str], what: str, body: dict[str, Any],
    change: dict[str, Any],
) -> None:
    created = await create(client, headers, what, **body)
    assert {k: created[k] for k in body} == body
    await create(client, headers, what, name="Another")
    url = f"{API}/{what}/{created['id']}"
    assert (await client.get(url, headers=headers)).json() == created

    page = (await client.get(f"{API}/{what}?per_page=1", headers=headers)).json()
    assert ([i["name"] for i in page["items"]], page["total"], page["has_next"]) == (
        ["Another"], 2, True)

    patched = await client.patch(url, json={**change, "name": "Renamed"}, headers=headers)
    assert patched.status_code == 200, patched.text
    assert {k: patched.json()[k] for k in change} == change
    assert patched.json()["name"] == "Renamed"

    if what == "locations":  # the first location is the default, which stays while others do
        other = page["items"][0]["id"]
        await client.patch(f"{API}/{what}/{other}", json={"is_default": True}, headers=headers)
    assert (await client.delete(url, headers=headers)).status_code == 204
    assert (await client.get(url, headers=headers)).status_code == 404


@pytest.mark.parametrize("what", ["categories", "suppliers", "locations"])
async def test_a_name_is_unique_within_an_organization_only(
    client: httpx.AsyncClient, headers: dict[str, str], mint_token: Callable[..., str],
    what: str,
) -> None:
    await create(client, headers, what, name="Main")
    response = await client.post(f"{API}/{what}", json={"name": "Main"}, headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["details"]["fields"]["name"]
    other = await create(client, headers, what, name="Other")
    response = await client.patch(f"{API}/{what}/{other['id']}", json={"name": "Main"},
                                  headers=headers)
    assert response.status_code == 409
    elsewhere = {"Authorization": f"Bearer {mint_token(org_id=uuid.uuid4())}"}
    await create(client, elsewhere, what, name="Main")


@pytest.mark.parametrize("body", [
    {"name": ""}, {"name": "x" * 201}, {"name": "Co", "email": "not-an-email"},
    {"name": "Co", "colour": "red"},
])
async def test_bad_supplier_input_is_refused(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any],
) -> None:
    response = await client.post(f"{API}/suppliers", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_a_category_used_by_an_item_is_not_deleted(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    category = await create(client, headers, "categories", name="Oils")
    await create(client, headers, "items", name="Olive oil", type="ingredient",
                 default_unit="g", category_id=category["id"])
    response = await client.delete(f"{API}/categories/{category['id']}", headers=headers)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["details"]["referenced_by"] == {"items": 1}
    assert error["message"] == "The category is still used by 1 item"


async def test_a_supplier_of_a_lot_and_a_location_holding_it_are_not_deleted(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    supplier = await create(client, headers, "suppliers", name="Oil Co")
    workshop = await create(client, headers, "locations", name="Workshop")
    warehouse = await create(client, headers, "locations", name="Warehouse")
    item = await create(client, headers, "items", name="Olive oil", type="ingredient",
                        default_unit="g")
    async with app.state.db.unit_of_work() as uow:
        uow.session.add(Lot(
            org_id=org, item_id=uuid.UUID(item["id"]), location_id=uuid.UUID(warehouse["id"]),
            supplier_id=uuid.UUID(supplier["id"]), lot_number="L1", source="restock",
            received_at=datetime.now(UTC), unit_cost=Decimal("0.02"),
            quantity_received=Decimal(10), quantity_remaining=Decimal(10)))
        await uow.commit()

    response = await client.delete(f"{API}/suppliers/{supplier['id']}", headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["details"]["referenced_by"] == {"lots": 1}
    response = await client.delete(f"{API}/locations/{warehouse['id']}", headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["details"]["referenced_by"] == {"lots": 1}
    assert workshop["is_default"] is True


async def test_the_first_location_is_the_default_until_another_is_made_the_default(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    first = await create(client, headers, "locations", name="Workshop")
    second = await create(client, headers, "locations", name="FBA", kind="fba")
    assert (first["is_default"], second["is_default"]) == (True, False)

    response = await client.patch(f"{API}/locations/{first['id']}", headers=headers,
                                  json={"is_default": False})
    assert response.status_code == 422
    assert "is_default" in response.json()["error"]["details"]["fields"]
    response = await client.delete(f"{API}/locations/{first['id']}", headers=headers)
    assert response.status_code == 409

    third = await create(client, headers, "locations", name="Warehouse", is_default=True)
    listed = (await client.get(f"{API}/locations", headers=headers)).json()["items"]
    assert {i["name"]: i["is_default"] for i in listed} == {
        "FBA": False, "Warehouse": True, "Workshop": False}
    await client.patch(f"{API}/locations/{second['id']}", headers=headers,
                       json={"is_default": True})
    listed = (await client.get(f"{API}/locations", headers=headers)).json()["items"]
    assert [i["id"] for i in listed if i["is_default"]] == [second["id"]]
    assert (await client.delete(f"{API}/locations/{third['id']}", headers=headers)
            ).status_code == 204


async def test_a_location_of_an_unknown_kind_is_refused(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    response = await client.post(f"{API}/locations", headers=headers,
                                 json={"name": "Van", "kind": "vehicle"})
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]["fields"]) == {"kind"}


async def test_default_location_makes_a_workshop_on_first_use_and_returns_it_after(
    app: FastAPI, org: uuid.UUID,
) -> None:
    async with app.state.db.unit_of_work() as uow:
        made = await default_location(uow, org)
        again = await default_location(uow, org)
        await uow.commit()
    assert made is again
    assert (made.name, made.kind, made.is_default, made.org_id) == (
        "Workshop", "workshop", True, org)


async def test_default_location_returns_the_default_an_organization_chose(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    await create(client, headers, "locations", name="Shed")
    chosen = await create(client, headers, "locations", name="Unit 4", is_default=True)
    async with app.state.db.unit_of_work() as uow:
        assert str((await default_location(uow, org)).id) == chosen["id"]


async def test_concurrent_first_uses_of_default_location_make_one_location(
    app: FastAPI, org: uuid.UUID,
) -> None:
    async def first_use() -> uuid.UUID:
        async with app.state.db.unit_of_work() as uow:
            location = await default_location(uow, org)
            await asyncio.sleep(0.01)  # hold the transaction open a moment
            await uow.commit()
            return location.id

    ids = await asyncio.gather(*(first_use() for _ in range(8)))
    assert len(set(ids)) == 1
    async with app.state.db.sessionmaker() as session:
        assert await session.scalar(
            sa.select(sa.func.count()).select_from(Location).where(Location.org_id == org)) == 1
