"""Costs rolled up through three levels of sub-recipes, with mixed units and a density
conversion, against values worked out by hand; scaling; allergens; nutrition."""

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from recipes.testing import RECIPES, create_recipe, known_item, soap_book


@pytest.fixture
def org() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def headers(mint_token: Callable[..., str], org: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(org_id=org, role='manager')}"}


def money(value: Any) -> Decimal:
    return Decimal(str(value))


async def test_cost_rolls_up_through_three_levels_of_sub_recipes(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await soap_book(app, client, headers, org)

    tea = (await client.get(f"{RECIPES}/{book['tea']['id']}", headers=headers)).json()
    lye = (await client.get(f"{RECIPES}/{book['lye']['id']}", headers=headers)).json()
    base = (await client.get(f"{RECIPES}/{book['base']['id']}", headers=headers)).json()
    soap = (await client.get(f"{RECIPES}/{book['soap']['id']}", headers=headers)).json()

    # 1000 ml x 0.001 + 10 g x 0.05
    assert money(tea["total_cost"]) == Decimal("1.5")
    # 150 g x 0.01 + 350 ml of a 1 l infusion (0.35 x 1.5)
    assert money(lye["total_cost"]) == Decimal("2.025")
    # 1 l of olive oil is 910 g (x 0.012 = 10.92) + 600 g x 0.008 + 400 ml of lye solution,
    # which at 1.25 g/ml is 500 g: the whole 500 g batch (2.025)
    assert [money(line["cost"]) for line in base["items"]] == [
        Decimal("10.92"), Decimal("4.8"), Decimal("2.025")]
    assert money(base["total_cost"]) == Decimal("17.745")
    assert money(base["cost_per_unit"]) == Decimal("8.8725")  # per kg
    # 1 kg of a 2 kg base + 2 tbsp (29.5735295625 ml) x 0.5 + 10 boxes + 1 mold
    assert [money(line["cost"]) for line in soap["items"]] == [
        Decimal("8.8725"), Decimal("14.78676478"), Decimal("2.5")]
    assert money(soap["containers"][0]["cost"]) == 2
    assert money(soap["ingredients_cost"]) == Decimal("23.65926478")
    assert money(soap["consumables_cost"]) == Decimal("2.5")
    assert money(soap["containers_cost"]) == 2
    assert money(soap["total_cost"]) == Decimal("28.15926478")
    assert money(soap["cost_per_portion"]) == Decimal("2.81592648")
    # per bar 2.815926478125 / selling price 8
    assert money(soap["food_cost_pct"]) == Decimal("35.19908098")
    assert money(soap["suggested_price"]) == Decimal("11.26370591")
    assert soap["cost_complete"] is True and soap["problems"] == []
    assert soap["allergens"] == ["coconut", "linalool"]
    assert [line["type"] for line in soap["items"]] == ["sub_recipe", "ingredient", "ingredient"]
    assert [line["role"] for line in soap["items"]] == ["ingredient", "ingredient", "consumable"]
    assert soap["items"][0]["sub_recipe"] == {"id": book["base"]["id"], "name": "Soap base"}
    assert soap["items"][1]["cost_source"] == "fifo"


async def test_scaling_by_portions_or_multiplier_scales_quantities_and_costs(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await soap_book(app, client, headers, org)
    url = f"{RECIPES}/{book['soap']['id']}/scale"

    by_portions = (await client.get(url, headers=headers, params={"portions": 25})).json()
    by_multiplier = (await client.get(url, headers=headers, params={"multiplier": "2.5"})).json()

    assert by_portions == by_multiplier
    assert money(by_portions["multiplier"]) == Decimal("2.5")
    assert money(by_portions["yield_qty"]) == 25
    assert money(by_portions["portioning"]["portion_count"]) == 25
    assert [money(line["quantity"]) for line in by_portions["items"]] == [
        Decimal("2.5"), 5, 25]
    assert money(by_portions["total_cost"]) == Decimal("70.39816195")
    assert money(by_portions["cost_per_portion"]) == Decimal("2.81592648")  # unchanged

    as_written = await client.get(url, headers=headers)
    both = await client.get(url, headers=headers, params={"portions": 2, "multiplier": 2})
    negative = await client.get(url, headers=headers, params={"multiplier": -1})
    assert as_written.json()["multiplier"] == 1
    assert [r.status_code for r in (both, negative)] == [422, 422]


async def test_nutrition_is_given_per_serving_from_the_items_that_state_it(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil = await known_item(app, org, "Sunflower oil", unit_cost="0.004",
                           nutrition_per_100g={"calories": "884", "fat_g": "100"})
    flour = await known_item(app, org, "Flour", unit_cost="0.002", allergens=["Wheat"],
                             nutrition_per_100g={"calories": "364", "protein_g": "10"})
    salt = await known_item(app, org, "Salt", unit_cost="0.001")
    bread = await create_recipe(
        client, headers, "Flatbread", yield_qty=8, yield_unit="breads",
        items=[{"item_id": flour, "quantity": 500, "unit": "g"},
               {"item_id": oil, "quantity": 50, "unit": "g"},
               {"item_id": salt, "quantity": 10, "unit": "g"}])

    # 500 g flour: 1820 kcal, 50 g protein; 50 g oil: 442 kcal, 50 g fat; over 8 breads
    assert bread["nutrition_total"] == {"calories": 2262, "protein_g": 50, "fat_g": 50}
    assert bread["nutrition_per_serving"] == {"calories": 282.75, "protein_g": 6.25,
                                              "fat_g": 6.25}
    assert bread["nutrition_complete"] is False
    assert bread["nutrition_missing"] == ["Salt"]
    assert bread["allergens"] == ["wheat"]


async def test_a_line_without_a_known_cost_or_density_leaves_the_costing_incomplete_with_fixes(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    butter = await known_item(app, org, "Shea butter")  # no stock, no purchase price
    honey = await known_item(app, org, "Honey", unit_cost="0.02")  # grams, no density
    wax = await known_item(app, org, "Beeswax", purchase_unit="lb", purchase_quantity="2",
                           purchase_price="18.14")
    balm = await create_recipe(
        client, headers, "Balm", items=[
            {"item_id": butter, "quantity": 100, "unit": "g"},
            {"item_id": honey, "quantity": 2, "unit": "tbsp"},
            {"item_id": wax, "quantity": "453.59237", "unit": "g"}])

    assert balm["cost_complete"] is False
    assert [line["cost"] for line in balm["items"][:2]] == [None, None]
    # 18.14 per 2 lb: 1 lb costs 9.07
    assert money(balm["items"][2]["cost"]) == Decimal("9.07")
    assert balm["items"][2]["cost_source"] == "purchase_price"
    assert money(balm["total_cost"]) == Decimal("9.07")
    problems = {problem["code"]: problem for problem in balm["problems"]}
    assert set(problems) == {"no_cost", "density_required"}
    assert problems["density_required"]["item_id"] == honey
    assert problems["density_required"]["fix"]["path"] == f"/api/v1/inventory/items/{honey}"
    assert problems["density_required"]["fix"]["field"] == "density_g_per_ml"
    assert problems["no_cost"]["fix"]["action"] == "set_purchase_price"
