"""GET /api/v1/units and POST /api/v1/units/convert: exact factors, an item's density and count
unit, and errors a client can act on."""

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

UNITS = "/api/v1/units"
CONVERT = "/api/v1/units/convert"


@pytest.fixture
def headers(mint_token: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(org_id=uuid.uuid4(), role='operator')}"}


async def an_item(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> str:
    response = await client.post("/api/v1/inventory/items", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def convert(client: httpx.AsyncClient, headers: dict[str, str],
                  **body: Any) -> httpx.Response:
    return await client.post(CONVERT, headers=headers, json=body)


async def test_the_unit_list_is_the_closed_set_with_exact_factors(
    client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    viewer = {"Authorization": f"Bearer {mint_token(role='viewer')}"}
    page = (await client.get(UNITS, headers=viewer)).json()
    units = {u["symbol"]: u for u in page["items"]}
    assert set(units) == {"g", "kg", "oz", "lb", "ml", "l", "tsp", "tbsp", "cup", "floz", "gal",
                          "drop", "count", "dozen"}
    assert page["total"] == 14
    assert units["g"] == {"symbol": "g", "name": "gram", "unit_type": "mass", "base_unit": True,
                          "base_symbol": "g", "factor": 1}
    assert units["oz"]["factor"] == 28.349523125
    assert (units["tsp"]["unit_type"], units["tsp"]["base_symbol"]) == ("volume", "ml")
    assert (units["dozen"]["base_unit"], units["dozen"]["factor"]) == (False, 12)


async def test_the_unit_list_filters_by_type_and_needs_a_token(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    page = (await client.get(f"{UNITS}?unit_type=count", headers=headers)).json()
    assert [u["symbol"] for u in page["items"]] == ["count", "dozen"]
    assert (await client.get(UNITS)).status_code == 401


async def test_ounces_convert_to_pounds_exactly(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    response = await convert(client, headers, from_unit="oz", to_unit="lb", quantity=16)
    assert response.status_code == 200
    assert response.json() == {"converted_quantity": 1, "from_unit": "oz", "to_unit": "lb",
                               "conversion_factor": 0.0625}


async def test_volume_becomes_weight_through_the_items_density(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    oil = await an_item(client, headers, name="Olive oil", type="ingredient", default_unit="g",
                        density_g_per_ml=0.91)
    response = await convert(client, headers, from_unit="l", to_unit="g", quantity="2.5",
                             item_id=oil)
    assert response.json() == {"converted_quantity": 2275, "from_unit": "l", "to_unit": "g",
                               "conversion_factor": 910}


async def test_an_items_own_count_unit_converts_with_counts(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    soap = await an_item(client, headers, name="Soap", type="product", default_unit="bars",
                         count_unit="bars")
    response = await convert(client, headers, from_unit="dozen", to_unit="bars", quantity=2,
                             item_id=soap)
    assert response.status_code == 200
    assert response.json()["converted_quantity"] == 24


async def test_volume_to_weight_for_an_item_without_density_names_the_fix(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    lye = await an_item(client, headers, name="Lye", type="ingredient", default_unit="g")
    response = await convert(client, headers, from_unit="ml", to_unit="g", quantity=10,
                             item_id=lye)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "DENSITY_REQUIRED"
    assert error["details"] == {
        "item_id": lye, "item_name": "Lye",
        "fix": {"action": "set_density", "field": "density_g_per_ml", "method": "PATCH",
                "path": f"/api/v1/inventory/items/{lye}",
                "message": "Set the density (g/mL) of Lye"}}


async def test_volume_to_weight_without_an_item_asks_for_one(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    response = await convert(client, headers, from_unit="cup", to_unit="oz", quantity=1)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "DENSITY_REQUIRED"
    assert response.json()["error"]["details"]["fix"]["action"] == "choose_item"


async def test_unknown_units_are_named_field_by_field(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    response = await convert(client, headers, from_unit="bars", to_unit="furlong", quantity=1)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "UNKNOWN_UNIT"
    assert set(error["details"]["fields"]) == {"from_unit", "to_unit"}
    assert "g" in error["details"]["known_units"]


async def test_a_count_cannot_become_a_weight(
    client: httpx.AsyncClient, headers: dict[str, str],
) -> None:
    response = await convert(client, headers, from_unit="count", to_unit="g", quantity=1)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INCOMPATIBLE_UNITS"


@pytest.mark.parametrize("quantity", [-1, 10**13, 0.123456789, "abc"])
async def test_a_bad_quantity_is_a_validation_error(
    client: httpx.AsyncClient, headers: dict[str, str], quantity: Any,
) -> None:
    response = await convert(client, headers, from_unit="g", to_unit="kg", quantity=quantity)
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]["fields"]) == {"quantity"}


async def test_a_viewer_may_convert_and_check_stock_but_not_adjust(
    client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    viewer = {"Authorization": f"Bearer {mint_token(role='viewer')}"}

    converted = await client.post(CONVERT, headers=viewer,
                                  json={"from_unit": "lb", "to_unit": "oz", "quantity": 1})
    checked = await client.post("/api/v1/inventory/stock-check", headers=viewer,
                                json={"items": [{"item_id": str(uuid.uuid4()),
                                                 "quantity_needed": 1, "unit": "g"}]})
    adjusted = await client.post("/api/v1/inventory/adjustments", headers=viewer, json={
        "adjustments": [{"item_id": str(uuid.uuid4()), "adjustment_type": "restock",
                         "quantity": 1}]})

    assert converted.status_code == 200
    assert converted.json()["converted_quantity"] == 16
    assert checked.status_code == 404  # past the role check, to the unknown item
    assert adjusted.status_code == 403
