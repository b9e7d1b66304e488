"""Plan snapshots from a recipe (seed 000's shape, sub-recipes expanded) and the production
stock check against a real inventory."""

import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contracts import PlanSnapshot
from recipes.app import create_app
from recipes.settings import RecipesSettings
from recipes.testing import RECIPES, create_recipe, known_item, soap_book
from servicekit.testing.service import running_service

STOCK_CHECK = "/api/v1/production/stock-check"


@pytest.fixture
def org() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def headers(mint_token: Callable[..., str], org: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(org_id=org, role='operator')}"}


def lines(plan: dict[str, Any], key: str) -> list[tuple[str, Decimal, str]]:
    return [(line["item_name"], Decimal(str(line["quantity"])), line["unit"])
            for line in plan[key]]


async def test_a_plan_expands_sub_recipes_to_stocked_items_in_seed_000s_shape(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await soap_book(app, client, headers, org)

    response = await client.post(f"{RECIPES}/{book['soap']['id']}/plan", headers=headers,
                                 json={"scale": 2})

    assert response.status_code == 200, response.text
    plan = response.json()
    PlanSnapshot.model_validate(plan)
    assert (plan["recipe_id"], plan["recipe_version"], plan["recipe_name"],
            plan["label_prefix"]) == (book["soap"]["id"], 1, "Lavender soap", "LS2")
    assert (plan["scale"], plan["batch_type"], plan["projected_yield"],
            plan["projected_yield_unit"]) == (2, "product", 20, "bars")
    assert plan["portioning"] == {"is_portioned": True, "portion_name": "bars",
                                  "portion_count": 20}
    # Twice: half of the 2 kg base (1 l olive oil, 600 g coconut oil, the whole lye solution:
    # 150 g lye and 350 ml of a 1 l tea infusion), and 2 tbsp lavender oil.
    assert lines(plan, "ingredients_plan") == [
        ("Olive oil", Decimal(1), "l"), ("Coconut oil", Decimal(600), "g"),
        ("Sodium hydroxide", Decimal(150), "g"), ("Distilled water", Decimal(350), "ml"),
        ("Chamomile tea", Decimal("3.5"), "g"), ("Lavender oil", Decimal(4), "tbsp")]
    assert lines(plan, "consumables_plan") == [("Soap box", Decimal(20), "count")]
    assert [(c["name"], c["quantity"]) for c in plan["containers"]] == [("Loaf mold", 2)]
    assert Decimal(str(plan["estimated_cost"])) == Decimal("56.31852956")
    assert plan["cost_complete"] is True
    assert plan["ingredients_plan"][0]["inventory_item_id"] == book["item"]["olive"]


async def test_a_plan_may_fill_other_containers_and_rounds_the_recipes_up_to_whole_ones(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await soap_book(app, client, headers, org)
    url = f"{RECIPES}/{book['soap']['id']}/plan"

    by_portions = (await client.post(url, headers=headers, json={"portions": 15})).json()
    chosen = (await client.post(url, headers=headers, json={
        "containers": [{"id": book["item"]["mold"], "quantity": 3}]})).json()
    both = await client.post(url, headers=headers, json={"scale": 1, "portions": 10})

    assert by_portions["scale"] == 1.5
    assert [c["quantity"] for c in by_portions["containers"]] == [2]  # 1.5 molds -> 2
    assert [(c["id"], c["quantity"], c["estimated_cost"]) for c in chosen["containers"]] == [
        (book["item"]["mold"], 3, 6)]
    assert Decimal(str(chosen["estimated_cost"])) == Decimal("32.15926478")
    assert both.status_code == 422


async def test_a_plan_is_blocked_by_a_conversion_that_needs_a_density_with_the_fix(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    honey = await known_item(app, org, "Honey", unit_cost="0.02")
    balm = await create_recipe(client, headers, "Balm",
                               [{"item_id": honey, "quantity": 2, "unit": "tbsp"}])

    response = await client.post(f"{RECIPES}/{balm['id']}/plan", headers=headers, json={})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "PLAN_BLOCKED"
    assert [p["code"] for p in error["details"]["problems"]] == ["density_required"]
    assert error["details"]["drawer_payload"]["fix"] == {
        "action": "set_density", "field": "density_g_per_ml", "method": "PATCH",
        "path": f"/api/v1/inventory/items/{honey}", "message": "Set the density (g/mL) of Honey"}


async def stocked(inventory_client: httpx.AsyncClient, headers: dict[str, str], name: str,
                  quantity: int, cost: str, **fields: Any) -> str:
    item = await inventory_client.post("/api/v1/inventory/items", headers=headers, json={
        "name": name, "type": "ingredient", "default_unit": "g", **fields})
    assert item.status_code == 201, item.text
    item_id: str = item.json()["id"]
    restock = await inventory_client.post("/api/v1/inventory/adjustments", headers=headers, json={
        "adjustments": [{"item_id": item_id, "adjustment_type": "restock",
                         "quantity": quantity, "cost_per_unit": cost}]})
    assert restock.status_code == 200, restock.text
    return item_id


async def test_the_stock_check_answers_how_many_batches_and_what_limits_them(
    client: httpx.AsyncClient, inventory_client: httpx.AsyncClient, headers: dict[str, str],
    eventually: Callable[..., Awaitable[Any]],
) -> None:
    oil = await stocked(inventory_client, headers, "Olive oil", 1000, "0.01",
                        density_g_per_ml="0.9")
    lye = await stocked(inventory_client, headers, "Lye", 100, "0.02")

    async def known() -> None:
        for item_id in (oil, lye):
            seen = await client.get(f"/api/v1/recipe-items/{item_id}", headers=headers)
            assert seen.status_code == 200
            assert seen.json()["unit_cost"] is not None
    await eventually(known)
    solution = await create_recipe(client, headers, "Lye solution", yield_qty=50,
                                   yield_unit="g", items=[
                                       {"item_id": lye, "quantity": 40, "unit": "g"}])
    soap = await create_recipe(client, headers, "Castile", items=[
        {"item_id": oil, "quantity": 300, "unit": "g"},
        {"sub_recipe_id": solution["id"], "quantity": 50, "unit": "g"}])

    once = (await client.post(STOCK_CHECK, headers=headers,
                              json={"recipe_id": soap["id"]})).json()
    triple = (await client.post(STOCK_CHECK, headers=headers,
                                json={"recipe_id": soap["id"], "scale_factor": 3})).json()

    assert once["success"] is True and once["status"] == "sufficient"
    assert once["max_batches"] == 2  # 100 g lye / 40 g; the oil would do 3
    assert once["limiting_item"]["item_id"] == lye
    assert {(line["item_name"], line["needed_quantity"], line["available_quantity"],
             line["batches_possible"]) for line in once["items"]} == {
        ("Olive oil", 300, 1000, 3), ("Lye", 40, 100, 2)}
    assert triple["success"] is False and triple["max_batches"] == 0
    assert [(s["item_id"], s["reason"], s["needed_quantity"], s["available_quantity"])
            for s in triple["shortages"]] == [(lye, "insufficient", 120, 100)]
    assert triple["shortages"][0]["fix"]["action"] == "restock"
    assert triple["shortages"][0]["fix"]["quantity"] == "20"


async def test_a_recipe_that_cannot_convert_is_short_with_a_drawer_to_fix_it(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    honey = await known_item(app, org, "Honey", unit_cost="0.02")
    balm = await create_recipe(client, headers, "Balm",
                               [{"item_id": honey, "quantity": 2, "unit": "tbsp"}])

    check = (await client.post(STOCK_CHECK, headers=headers,
                               json={"recipe_id": balm["id"]})).json()

    assert check["success"] is False and check["max_batches"] == 0
    assert [(s["item_id"], s["reason"]) for s in check["shortages"]] == [
        (honey, "density_required")]
    assert check["drawer_payload"]["fix"]["action"] == "set_density"


async def test_the_stock_check_is_a_503_when_inventory_does_not_answer(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    database_url: str, token_keys: tuple[str, str],
) -> None:
    oil = await known_item(app, org, "Olive oil", unit_cost="0.01")
    soap = await create_recipe(client, headers, "Castile",
                               [{"item_id": oil, "quantity": 300, "unit": "g"}])
    settings = RecipesSettings(database_url=database_url, broker_url="memory://",
                               jwt_public_key=token_keys[1],
                               inventory_url="http://127.0.0.1:9", inventory_timeout_seconds=1)

    async with running_service(create_app(settings, role="api")) as isolated:
        response = await isolated.post(STOCK_CHECK, headers=headers,
                                       json={"recipe_id": soap["id"]})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
