"""Recipes in the fleet: costs from inventory's FIFO lots (through RabbitMQ), a stock check that
asks inventory's process over HTTP as the caller, a plan, and a bill of materials as a PDF."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from servicekit.testing.plugin import eventually

pytestmark = pytest.mark.fleet


async def _post(gateway: httpx.AsyncClient, headers: dict[str, str], path: str,
                body: dict[str, Any]) -> dict[str, Any]:
    response = await gateway.post(path, headers=headers, json=body)
    assert response.status_code in (200, 201), (path, response.text)
    return response.json()  # type: ignore[no-any-return]


async def test_a_recipe_costed_from_lots_checked_against_stock_planned_and_bought_for(
    gateway: httpx.AsyncClient, owner: dict[str, str],
) -> None:
    oil = (await _post(gateway, owner, "/api/v1/inventory/items", {
        "name": "Olive oil", "type": "ingredient", "default_unit": "g",
        "density_g_per_ml": 0.91, "purchase_unit": "l", "purchase_quantity": 3,
        "purchase_price": 30}))["id"]
    lye = (await _post(gateway, owner, "/api/v1/inventory/items", {
        "name": "Lye", "type": "ingredient", "default_unit": "g"}))["id"]
    await _post(gateway, owner, "/api/v1/inventory/adjustments", {"adjustments": [
        {"item_id": oil, "adjustment_type": "restock", "quantity": 3000, "cost_per_unit": 0.01},
        {"item_id": lye, "adjustment_type": "restock", "quantity": 300,
         "cost_per_unit": 0.02}]})

    async def costed() -> dict[str, Any]:
        item = await gateway.get(f"/api/v1/recipe-items/{oil}", headers=owner)
        assert item.status_code == 200 and item.json()["unit_cost"] == 0.01
        return item.json()  # type: ignore[no-any-return]
    await eventually(costed, timeout=20)
    soap = await _post(gateway, owner, "/api/v1/recipes", {
        "name": f"Castile {uuid.uuid4().hex[:4]}", "yield_qty": 10, "yield_unit": "bars",
        "items": [{"item_id": oil, "quantity": 1, "unit": "l"},
                  {"item_id": lye, "quantity": 120, "unit": "g"}]})

    # 1 l of oil is 910 g at 0.01, and 120 g of lye at 0.02
    assert soap["total_cost"] == 11.5
    check = await _post(gateway, owner, "/api/v1/production/stock-check",
                        {"recipe_id": soap["id"]})
    assert (check["max_batches"], check["limiting_item"]["item_id"]) == (2, lye)
    plan = await _post(gateway, owner, f"/api/v1/recipes/{soap['id']}/plan", {"scale": 2})
    assert [(line["inventory_item_id"], line["quantity"], line["unit"])
            for line in plan["ingredients_plan"]] == [(oil, 2, "l"), (lye, 240, "g")]

    bom = await _post(gateway, owner, "/api/v1/bom/generate", {
        "name": "Market week", "recipes": [{"recipe_id": soap["id"], "portions": 40}]})
    line = next(line for line in bom["items"] if line["ingredient_id"] == oil)
    assert (line["total_qty"], line["unit"], line["packs"], line["purchase_cost"]) == (
        4, "l", 2, 60)
    pdf = await gateway.get(f"/api/v1/bom/{bom['id']}/export", headers=owner,
                            params={"format": "pdf"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
