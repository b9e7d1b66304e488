"""Shortcuts for recipes' tests: items as inventory announces them, recipes through the API."""

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from contracts import ItemChanged
from servicekit.messaging import Envelope
from servicekit.testing.service import deliver

RECIPES = "/api/v1/recipes"


def item_changed(org_id: uuid.UUID, *, time: datetime | None = None,
                 extra_data: dict[str, Any] | None = None, **fields: Any) -> Envelope:
    """An ItemChanged envelope as inventory's outbox would publish it."""
    event = ItemChanged.model_validate({
        "item_id": uuid.uuid4(), "name": "Olive oil", "type": "ingredient", "default_unit": "g",
        **fields,
    })
    return Envelope(
        source="/smallbatch/inventory", type=ItemChanged.routing_key(), subject=str(event.item_id),
        data=event.model_dump(mode="json") | (extra_data or {}), orgid=str(org_id),
        time=time or datetime.now(UTC),
    )


async def known_item(app: FastAPI, org_id: uuid.UUID, name: str, **fields: Any) -> str:
    """An item recipes has heard of (its ItemChanged handled); its id."""
    envelope = item_changed(org_id, name=name, **fields)
    await deliver(app, envelope)
    return envelope.subject  # type: ignore[return-value]


async def create_recipe(client: httpx.AsyncClient, headers: dict[str, str], name: str,
                        items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    body = {"name": name, "yield_qty": 1, "yield_unit": "batch", "items": items, **fields}
    response = await client.post(RECIPES, headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def soap_book(app: FastAPI, client: httpx.AsyncClient,
                    headers: dict[str, str], org: uuid.UUID) -> dict[str, Any]:
    """Lavender soap -> soap base -> lye solution -> tea infusion, with these unit costs:

    water 0.001/ml, tea 0.05/g, lye 0.01/g, olive oil 0.012/g (density 0.91 g/ml),
    coconut oil 0.008/g, lavender oil 0.5/ml, box 0.25 each (consumable), mold 2 (container).
    """
    item = {
        "water": await known_item(app, org, "Distilled water", default_unit="ml",
                                  unit_cost="0.001", density_g_per_ml="1",
                                  nutrition_per_100g={"calories": "0"}),
        "tea": await known_item(app, org, "Chamomile tea", unit_cost="0.05"),
        "lye": await known_item(app, org, "Sodium hydroxide", unit_cost="0.01"),
        "olive": await known_item(app, org, "Olive oil", unit_cost="0.012",
                                  density_g_per_ml="0.91",
                                  nutrition_per_100g={"calories": "884", "fat_g": "100"}),
        "coconut": await known_item(app, org, "Coconut oil", unit_cost="0.008",
                                    allergens=["Coconut"]),
        "lavender": await known_item(app, org, "Lavender oil", default_unit="ml",
                                     unit_cost="0.5", density_g_per_ml="0.9",
                                     allergens=["linalool"]),
        "box": await known_item(app, org, "Soap box", type="packaging", default_unit="count",
                                unit_cost="0.25"),
        "mold": await known_item(app, org, "Loaf mold", type="container",
                                 default_unit="count", unit_cost="2"),
    }
    tea = await create_recipe(client, headers, "Tea infusion", yield_qty=1, yield_unit="l",
                              items=[{"item_id": item["water"], "quantity": 1000, "unit": "ml"},
                                     {"item_id": item["tea"], "quantity": 10, "unit": "g"}])
    lye = await create_recipe(
        client, headers, "Lye solution", yield_qty=500, yield_unit="g",
        yield_density_g_per_ml="1.25", batch_type="ingredient",
        items=[{"item_id": item["lye"], "quantity": 150, "unit": "g"},
               {"sub_recipe_id": tea["id"], "quantity": 350, "unit": "ml"}])
    base = await create_recipe(
        client, headers, "Soap base", yield_qty=2, yield_unit="kg",
        items=[{"item_id": item["olive"], "quantity": 1, "unit": "l"},
               {"item_id": item["coconut"], "quantity": 600, "unit": "g"},
               {"sub_recipe_id": lye["id"], "quantity": 400, "unit": "ml"}])
    soap = await create_recipe(
        client, headers, "Lavender soap", yield_qty=10, yield_unit="bars",
        portioning={"is_portioned": True, "portion_name": "bars", "portion_count": 10},
        selling_price=8, target_cost_pct=25,
        items=[{"sub_recipe_id": base["id"], "quantity": 1, "unit": "kg"},
               {"item_id": item["lavender"], "quantity": 2, "unit": "tbsp"},
               {"item_id": item["box"], "quantity": 10, "unit": "count"}],
        containers=[{"item_id": item["mold"], "quantity": 1}])
    return {"item": item, "tea": tea, "lye": lye, "base": base, "soap": soap}
