"""Writing recipes: validation, sub-recipe cycles, versions, label prefixes, archiving,
categories, and every id of another organization a 404."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from inventory.testing import make_item
from recipes.testing import RECIPES, create_recipe, known_item
from servicekit.messaging.tables import outbox

CATEGORIES = "/api/v1/recipe-categories"


@pytest.fixture
def org() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def auth(mint_token: Callable[..., str], org: uuid.UUID) -> Callable[..., dict[str, str]]:
    def headers(role: str = "manager", org_id: uuid.UUID | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(org_id=org_id or org, role=role)}"}
    return headers


@pytest.fixture
def headers(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth()


@pytest.fixture
async def flour(app: FastAPI, org: uuid.UUID) -> str:
    return await known_item(app, org, "Flour", unit_cost="0.002")


async def test_bad_lines_are_refused_with_the_field_named_and_nothing_stored(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    flour: str,
) -> None:
    eggs = await known_item(app, org, "Eggs", default_unit="count")
    cases: list[tuple[list[dict[str, Any]], str]] = [
        ([], "VALIDATION_ERROR"),
        ([{"item_id": flour, "sub_recipe_id": str(uuid.uuid4()), "quantity": 1, "unit": "g"}],
         "VALIDATION_ERROR"),
        ([{"item_id": flour, "quantity": 0, "unit": "g"}], "VALIDATION_ERROR"),
        ([{"item_id": flour, "quantity": "1e400", "unit": "g"}], "VALIDATION_ERROR"),
        ([{"item_id": str(uuid.uuid4()), "quantity": 1, "unit": "g"}], "UNKNOWN_REFERENCE"),
        ([{"sub_recipe_id": str(uuid.uuid4()), "quantity": 1, "unit": "g"}],
         "UNKNOWN_REFERENCE"),
        ([{"item_id": eggs, "quantity": 100, "unit": "g"}], "INCOMPATIBLE_UNITS"),
        ([{"item_id": flour, "quantity": 1, "unit": "furlong"}], "INCOMPATIBLE_UNITS"),
    ]
    for items, code in cases:
        response = await client.post(RECIPES, headers=headers, json={
            "name": "Bread", "yield_qty": 1, "yield_unit": "loaf", "items": items})
        assert response.status_code == 422, (items, response.text)
        assert response.json()["error"]["code"] == code, items

    listed = await client.get(RECIPES, headers=headers)
    assert listed.json()["total"] == 0


async def test_an_item_inventory_has_but_recipes_has_not_heard_of_yet_is_accepted(
    app: FastAPI, inventory_app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str],
    org: uuid.UUID,
) -> None:
    # Written straight to inventory's database: no ItemChanged was ever sent.
    sugar = await make_item(inventory_app, org, name="Sugar")

    created = await create_recipe(client, headers, "Syrup",
                                  [{"item_id": str(sugar), "quantity": 100, "unit": "g"}])

    assert created["items"][0]["ingredient"] == {"id": str(sugar), "name": None}
    assert created["cost_complete"] is False
    assert created["problems"][0]["code"] == "unknown_item"


async def test_a_sub_recipe_cycle_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, headers: dict[str, str], flour: str,
) -> None:
    dough = await create_recipe(client, headers, "Dough",
                                [{"item_id": flour, "quantity": 500, "unit": "g"}])
    bread = await create_recipe(client, headers, "Bread",
                                [{"sub_recipe_id": dough["id"], "quantity": 1, "unit": "batch"}])
    toast = await create_recipe(client, headers, "Toast",
                                [{"sub_recipe_id": bread["id"], "quantity": 1, "unit": "batch"}])

    itself = await client.patch(f"{RECIPES}/{dough['id']}", headers=headers, json={
        "items": [{"sub_recipe_id": dough["id"], "quantity": 1, "unit": "batch"}]})
    around = await client.patch(f"{RECIPES}/{dough['id']}", headers=headers, json={
        "items": [{"item_id": flour, "quantity": 500, "unit": "g"},
                  {"sub_recipe_id": toast["id"], "quantity": 1, "unit": "batch"}]})

    for response in (itself, around):
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "RECIPE_CYCLE"
    assert around.json()["error"]["details"]["path"] == [
        dough["id"], toast["id"], bread["id"], dough["id"]]
    assert "Dough -> Toast -> Bread -> Dough" in around.json()["error"]["message"]
    after = (await client.get(f"{RECIPES}/{dough['id']}", headers=headers)).json()
    assert after["version"] == 1
    assert [line["ingredient"]["id"] for line in after["items"]] == [flour]


async def test_every_change_is_a_new_version_and_old_versions_stay_as_written(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    flour: str,
) -> None:
    bread = await create_recipe(client, headers, "Bread",
                                [{"item_id": flour, "quantity": 500, "unit": "g"}])
    patched = await client.patch(f"{RECIPES}/{bread['id']}", headers=headers, json={
        "items": [{"item_id": flour, "quantity": 650, "unit": "g"}], "cook_time_min": 40})
    replaced = await client.put(f"{RECIPES}/{bread['id']}", headers=headers, json={
        "name": "Country bread", "yield_qty": 2, "yield_unit": "loaf",
        "items": [{"ingredient_id": flour, "quantity": 1, "unit": "kg"}]})

    assert patched.json()["version"] == 2
    assert patched.json()["cook_time_min"] == 40
    assert replaced.json()["version"] == 3
    assert replaced.json()["cook_time_min"] is None  # PUT replaces the whole recipe
    versions = (await client.get(f"{RECIPES}/{bread['id']}/versions", headers=headers)).json()
    assert [v["version"] for v in versions["items"]] == [3, 2, 1]
    assert [v["change"] for v in versions["items"]] == ["updated", "updated", "created"]
    first = (await client.get(f"{RECIPES}/{bread['id']}/versions/1", headers=headers)).json()
    assert first["definition"]["name"] == "Bread"
    assert first["definition"]["items"][0]["quantity"] == "500.00000000"
    plan = (await client.post(f"{RECIPES}/{bread['id']}/plan", headers=headers,
                              json={})).json()
    assert plan["recipe_version"] == 3
    missing = await client.get(f"{RECIPES}/{bread['id']}/versions/9", headers=headers)
    assert missing.status_code == 404

    async with app.state.db.sessionmaker() as session:
        published = (await session.execute(
            sa.select(outbox.c.routing_key, outbox.c.body).where(outbox.c.org_id == str(org))
            .order_by(outbox.c.id))).all()
    changed = [json.loads(row.body)["data"] for row in published
               if row.routing_key == "recipes.RecipeChanged.v1"]
    assert [(event["version"], event["name"]) for event in changed] == [
        (1, "Bread"), (2, "Bread"), (3, "Country bread")]


async def test_label_prefixes_are_initials_unique_in_the_organization(
    client: httpx.AsyncClient, headers: dict[str, str], auth: Callable[..., dict[str, str]],
    flour: str,
) -> None:
    async def prefix(name: str, who: dict[str, str] = headers) -> str:
        response = await client.get(f"{RECIPES}/prefix", headers=who, params={"name": name})
        return response.json()["prefix"]  # type: ignore[no-any-return]

    assert await prefix("Milk and Honey") == "MAH"
    assert await prefix("Lavender") == "LAV"
    assert await prefix("  crème brûlée ") == "CB"
    first = await create_recipe(client, headers, "Milk and Honey",
                                [{"item_id": flour, "quantity": 1, "unit": "g"}])
    assert first["label_prefix"] == "MAH"
    assert await prefix("Mint and Hemp") == "MAH2"
    assert await prefix("Mint and Hemp", auth(org_id=uuid.uuid4())) == "MAH"
    second = await create_recipe(client, headers, "Mint and Hemp",
                                 [{"item_id": flour, "quantity": 1, "unit": "g"}])
    assert second["label_prefix"] == "MAH2"

    taken = await client.post(RECIPES, headers=headers, json={
        "name": "Mango", "label_prefix": "mah", "yield_qty": 1, "yield_unit": "jar",
        "items": [{"item_id": flour, "quantity": 1, "unit": "g"}]})
    same_name = await client.post(RECIPES, headers=headers, json={
        "name": "Milk and Honey", "yield_qty": 1, "yield_unit": "jar",
        "items": [{"item_id": flour, "quantity": 1, "unit": "g"}]})
    assert taken.status_code == 409
    assert taken.json()["error"]["details"]["suggestion"] == "MAN"
    assert same_name.status_code == 409


async def test_archiving_is_refused_while_a_recipe_is_a_sub_recipe_and_hides_it_after(
    client: httpx.AsyncClient, headers: dict[str, str], flour: str,
) -> None:
    dough = await create_recipe(client, headers, "Dough",
                                [{"item_id": flour, "quantity": 500, "unit": "g"}])
    bread = await create_recipe(client, headers, "Bread",
                                [{"sub_recipe_id": dough["id"], "quantity": 1, "unit": "batch"}])

    refused = await client.delete(f"{RECIPES}/{dough['id']}", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["used_by"] == ["Bread"]

    assert (await client.delete(f"{RECIPES}/{bread['id']}", headers=headers)).status_code == 200
    assert (await client.delete(f"{RECIPES}/{dough['id']}", headers=headers)).status_code == 200
    active = (await client.get(RECIPES, headers=headers)).json()
    archived = (await client.get(RECIPES, headers=headers, params={"archived": True})).json()
    assert active["total"] == 0
    assert sorted(r["name"] for r in archived["items"]) == ["Bread", "Dough"]
    plan = await client.post(f"{RECIPES}/{bread['id']}/plan", headers=headers, json={})
    assert plan.status_code == 409
    reuse = await client.post(RECIPES, headers=headers, json={
        "name": "Rolls", "yield_qty": 1, "yield_unit": "batch",
        "items": [{"sub_recipe_id": dough["id"], "quantity": 1, "unit": "batch"}]})
    assert reuse.status_code == 422


async def test_recipes_list_with_their_costs_filtered_and_paginated(
    client: httpx.AsyncClient, headers: dict[str, str], flour: str,
) -> None:
    category = (await client.post(CATEGORIES, headers=headers, json={"name": "Breads"})).json()
    for name, grams in (("Bagel", 100), ("Baguette", 250), ("Cookie", 50)):
        await create_recipe(client, headers, name,
                            [{"item_id": flour, "quantity": grams, "unit": "g"}],
                            category_id=category["id"] if name != "Cookie" else None)

    page = (await client.get(RECIPES, headers=headers, params={
        "category_id": category["id"], "per_page": 1})).json()
    searched = (await client.get(RECIPES, headers=headers, params={"search": "COOK"})).json()

    assert (page["total"], page["pages"], page["has_next"]) == (2, 2, True)
    assert page["items"][0]["name"] == "Bagel"
    assert page["items"][0]["total_cost"] == 0.2
    assert page["items"][0]["category"] == {"id": category["id"], "name": "Breads"}
    assert [r["name"] for r in searched["items"]] == ["Cookie"]


async def test_recipe_categories_are_unique_and_kept_while_in_use(
    client: httpx.AsyncClient, headers: dict[str, str], flour: str,
) -> None:
    created = await client.post(CATEGORIES, headers=headers, json={"name": "Soaps"})
    duplicate = await client.post(CATEGORIES, headers=headers, json={"name": "Soaps"})
    assert (created.status_code, duplicate.status_code) == (201, 409)
    category = created.json()
    await create_recipe(client, headers, "Oat soap",
                        [{"item_id": flour, "quantity": 1, "unit": "g"}],
                        category_id=category["id"])

    renamed = await client.patch(f"{CATEGORIES}/{category['id']}", headers=headers,
                                 json={"name": "Bar soaps"})
    in_use = await client.delete(f"{CATEGORIES}/{category['id']}", headers=headers)
    unknown = await client.post(RECIPES, headers=headers, json={
        "name": "Goat soap", "yield_qty": 1, "yield_unit": "bar",
        "category_id": str(uuid.uuid4()),
        "items": [{"item_id": flour, "quantity": 1, "unit": "g"}]})

    assert renamed.json()["name"] == "Bar soaps"
    assert in_use.status_code == 409
    assert unknown.status_code == 422


async def test_another_organizations_recipes_are_not_found_and_viewers_only_read(
    client: httpx.AsyncClient, headers: dict[str, str], auth: Callable[..., dict[str, str]],
    flour: str,
) -> None:
    bread = await create_recipe(client, headers, "Bread",
                                [{"item_id": flour, "quantity": 500, "unit": "g"}])
    stranger = auth(org_id=uuid.uuid4())
    url = f"{RECIPES}/{bread['id']}"
    for response in (
        await client.get(url, headers=stranger),
        await client.get(f"{url}/scale", headers=stranger, params={"multiplier": 2}),
        await client.get(f"{url}/versions", headers=stranger),
        await client.patch(url, headers=stranger, json={"cook_time_min": 5}),
        await client.delete(url, headers=stranger),
        await client.post(f"{url}/plan", headers=stranger, json={}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    borrowed = await client.post(RECIPES, headers=stranger, json={
        "name": "Stolen", "yield_qty": 1, "yield_unit": "batch",
        "items": [{"sub_recipe_id": bread["id"], "quantity": 1, "unit": "batch"}]})
    assert borrowed.status_code == 422

    viewer = auth(role="viewer")
    assert (await client.get(url, headers=viewer)).status_code == 200
    assert (await client.post(f"{url}/plan", headers=viewer, json={})).status_code == 200
    assert (await client.patch(url, headers=viewer,
                               json={"cook_time_min": 5})).status_code == 403
    assert (await client.post(RECIPES, headers=viewer, json={})).status_code == 403
