"""Purchase packs on items ("a 25 lb bag for 12.99"): kept on create and patch, read back, and
refused when they could not be costed from: a unit that does not convert to the item's default
unit, half a pack, a price of nothing, and later changes to the item that would break them."""

import json
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from servicekit.messaging.tables import outbox

ITEMS = "/api/v1/inventory/items"
PACK_FIELDS = ("purchase_unit", "purchase_quantity", "purchase_price")

OLIVE_OIL = {"name": "Olive oil", "type": "ingredient", "default_unit": "g",
             "density_g_per_ml": 0.91, "purchase_unit": "gal", "purchase_quantity": 1,
             "purchase_price": 34.99}
LYE = {"name": "Sodium hydroxide", "type": "ingredient", "default_unit": "g"}


async def create(client: httpx.AsyncClient, headers: dict[str, str],
                 **body: Any) -> dict[str, Any]:
    response = await client.post(ITEMS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def event_count(app: FastAPI, org: uuid.UUID) -> int:
    async with app.state.db.sessionmaker() as session:
        return int(await session.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.org_id == str(org))))


def pack(item: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(item[field] for field in PACK_FIELDS)


async def test_a_purchase_pack_is_kept_on_create_and_read_back(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    oil = await create(client, headers, **OLIVE_OIL)
    lye = await create(client, headers, **LYE, purchase_unit="lb", purchase_quantity=2,
                       purchase_price="11.49")
    soap = await create(client, headers, name="Soap", type="product", default_unit="count",
                        count_unit="bars", purchase_unit="bars", purchase_quantity=12)

    assert pack(oil) == ("gal", 1, 34.99)
    assert pack(lye) == ("lb", 2, 11.49)
    assert pack(soap) == ("bars", 12, None)  # a pack may come without a price
    assert pack(await create(client, headers, name="Water", type="ingredient",
                             default_unit="ml")) == (None, None, None)
    fetched = (await client.get(f"{ITEMS}/{lye['id']}", headers=headers)).json()
    assert pack(fetched) == ("lb", 2, 11.49)
    listed = (await client.get(ITEMS, headers=headers)).json()["items"]
    assert {i["name"]: pack(i) for i in listed}["Olive oil"] == ("gal", 1, 34.99)


async def test_patching_changes_a_pack_and_null_clears_it(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    oil = await create(client, headers, **OLIVE_OIL)
    url = f"{ITEMS}/{oil['id']}"

    response = await client.patch(url, headers=headers, json={"purchase_price": 31.5})
    assert (response.status_code, pack(response.json())) == (200, ("gal", 1, 31.5))
    response = await client.patch(url, headers=headers, json={
        "purchase_unit": "kg", "purchase_quantity": "3.5"})
    assert (response.status_code, pack(response.json())) == (200, ("kg", 3.5, 31.5))
    response = await client.patch(url, headers=headers, json=dict.fromkeys(PACK_FIELDS))
    assert (response.status_code, pack(response.json())) == (200, (None, None, None))
    assert pack((await client.get(url, headers=headers)).json()) == (None, None, None)


async def test_the_default_unit_may_change_to_one_the_pack_still_converts_to(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    oil = await create(client, headers, **OLIVE_OIL)
    response = await client.patch(f"{ITEMS}/{oil['id']}", headers=headers,
                                  json={"default_unit": "ml"})
    assert response.status_code == 200, response.text
    response = await client.patch(f"{ITEMS}/{oil['id']}", headers=headers,
                                  json={"density_g_per_ml": None})  # gal to ml needs none
    assert response.status_code == 200, response.text
    assert pack(response.json()) == ("gal", 1, 34.99)


BAD_PACKS = [
    ({"purchase_unit": "furlong", "purchase_quantity": 1}, "purchase_unit"),
    ({"purchase_unit": "", "purchase_quantity": 1}, "purchase_unit"),
    ({"purchase_unit": "count", "purchase_quantity": 12}, "purchase_unit"),
    ({"purchase_unit": "bars", "purchase_quantity": 12}, "purchase_unit"),
    ({"purchase_unit": "lb"}, "purchase_quantity"),
    ({"purchase_quantity": 25}, "purchase_unit"),
    ({"purchase_unit": "lb", "purchase_quantity": 0}, "purchase_quantity"),
    ({"purchase_unit": "lb", "purchase_quantity": -2}, "purchase_quantity"),
    ({"purchase_unit": "lb", "purchase_quantity": 10**13}, "purchase_quantity"),
    ({"purchase_unit": "lb", "purchase_quantity": 2, "purchase_price": -1}, "purchase_price"),
    ({"purchase_unit": "lb", "purchase_quantity": 2, "purchase_price": "1.123456789"},
     "purchase_price"),
    ({"purchase_price": 3}, "purchase_price"),
]


@pytest.mark.parametrize(("change", "field"), BAD_PACKS,
                         ids=[json.dumps(change) for change, _ in BAD_PACKS])
async def test_a_bad_pack_on_create_gets_a_422_naming_the_field_and_nothing_is_written(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    change: dict[str, Any], field: str,
) -> None:
    response = await client.post(ITEMS, headers=headers, json={**LYE, **change})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["details"]["fields"]
    assert (await client.get(ITEMS, headers=headers)).json()["total"] == 0
    assert await event_count(app, org) == 0


async def test_a_pack_by_volume_of_an_item_kept_by_weight_needs_its_density(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    response = await client.post(ITEMS, headers=headers, json={
        **LYE, "purchase_unit": "gal", "purchase_quantity": 1, "purchase_price": 20})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "DENSITY_REQUIRED"
    assert error["details"] == {
        "item_id": None, "item_name": "Sodium hydroxide",
        "fix": {"action": "set_density", "field": "density_g_per_ml", "method": "POST",
                "path": ITEMS, "message": "Send the density (g/mL) of Sodium hydroxide with "
                                          "the item"},
        "fields": {"purchase_unit": [
            "a pack in gal converts to the default unit g only through the item's "
            "density_g_per_ml"]}}
    assert (await client.get(ITEMS, headers=headers)).json()["total"] == 0
    assert await event_count(app, org) == 0

    with_density = await create(client, headers, **LYE, density_g_per_ml=2.13,
                                purchase_unit="gal", purchase_quantity=1)
    assert pack(with_density) == ("gal", 1, None)


BAD_PATCHES = [
    ({"purchase_unit": "furlong"}, "VALIDATION_ERROR", ["purchase_unit"]),
    ({"purchase_unit": "count"}, "VALIDATION_ERROR", ["purchase_unit"]),
    ({"purchase_unit": None}, "VALIDATION_ERROR", ["purchase_unit"]),
    ({"purchase_quantity": None}, "VALIDATION_ERROR", ["purchase_quantity"]),
    ({"purchase_quantity": 0}, "VALIDATION_ERROR", ["purchase_quantity"]),
    ({"purchase_price": -1}, "VALIDATION_ERROR", ["purchase_price"]),
    ({"purchase_unit": None, "purchase_quantity": None}, "VALIDATION_ERROR",
     ["purchase_price"]),
    ({"default_unit": "count"}, "VALIDATION_ERROR", ["default_unit"]),
    ({"default_unit": "bars", "count_unit": "bars"}, "VALIDATION_ERROR",
     ["count_unit", "default_unit"]),
    ({"density_g_per_ml": None}, "DENSITY_REQUIRED", ["density_g_per_ml"]),
    ({"purchase_unit": "l", "density_g_per_ml": None}, "DENSITY_REQUIRED",
     ["purchase_unit"]),
]


@pytest.mark.parametrize(("change", "code", "fields"), BAD_PATCHES,
                         ids=[json.dumps(change) for change, _, _ in BAD_PATCHES])
async def test_a_patch_that_would_break_the_pack_gets_a_422_naming_the_field_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    change: dict[str, Any], code: str, fields: list[str],
) -> None:
    oil = await create(client, headers, **OLIVE_OIL)
    url = f"{ITEMS}/{oil['id']}"
    response = await client.patch(url, headers=headers, json=change)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert sorted(error["details"]["fields"]) == fields
    after = (await client.get(url, headers=headers)).json()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in oil.items() if k != "updated_at"}
    assert await event_count(app, org) == 1  # the create's


async def test_removing_the_density_a_pack_needs_names_the_fix_on_the_item(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    oil = await create(client, headers, **OLIVE_OIL)
    response = await client.patch(f"{ITEMS}/{oil['id']}", headers=headers,
                                  json={"density_g_per_ml": None})
    details = response.json()["error"]["details"]
    assert (details["item_id"], details["item_name"]) == (oil["id"], "Olive oil")
    assert details["fix"] == {
        "action": "set_density", "field": "density_g_per_ml", "method": "PATCH",
        "path": f"{ITEMS}/{oil['id']}", "message": "Set the density (g/mL) of Olive oil"}
    assert details["fields"] == {"density_g_per_ml": [
        "a pack in gal converts to the default unit g only through the item's "
        "density_g_per_ml"]}
