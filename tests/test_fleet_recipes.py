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


async def test_from_recipe_to_traced_product_lot_through_an_intermediate_batch(
    gateway: httpx.AsyncClient, owner: dict[str, str],
) -> None:
    """A lye solution batch (an ingredient batch) carries its true cost into the soap batch
    that uses it; the soap's product lot is costed from both, and traced back to the lye."""
    async def item(name: str, kind: str = "ingredient", unit: str = "g") -> str:
        return str((await _post(gateway, owner, "/api/v1/inventory/items", {
            "name": name, "type": kind, "default_unit": unit,
            **({"count_unit": unit} if unit == "bars" else {})}))["id"])

    lye, water, oil = await item("Lye"), await item("Water"), await item("Olive oil")
    solution, soap = await item("Lye solution"), await item("Castile bar", "product", "bars")
    lye_lots = []
    for cost in (0.02, 0.03):  # one request each: the first is the older lot
        restocked = await _post(gateway, owner, "/api/v1/inventory/adjustments", {
            "adjustments": [{"item_id": lye, "adjustment_type": "restock", "quantity": 100,
                             "cost_per_unit": cost}]})
        lye_lots.append(restocked["data"]["movements"][0]["lot_id"])
    oldest_lye = lye_lots[0]
    await _post(gateway, owner, "/api/v1/inventory/adjustments", {"adjustments": [
        {"item_id": water, "adjustment_type": "restock", "quantity": 1000,
         "cost_per_unit": 0.001},
        {"item_id": oil, "adjustment_type": "restock", "quantity": 2000, "cost_per_unit": 0.01}]})

    lye_recipe = await _post(gateway, owner, "/api/v1/recipes", {
        "name": "Lye solution", "yield_qty": 200, "yield_unit": "g", "batch_type": "ingredient",
        "output_item_id": solution,
        "items": [{"item_id": lye, "quantity": 60, "unit": "g"},
                  {"item_id": water, "quantity": 140, "unit": "g"}]})
    soap_recipe = await _post(gateway, owner, "/api/v1/recipes", {
        "name": "Castile soap", "yield_qty": 10, "yield_unit": "bars", "output_item_id": soap,
        "items": [{"item_id": oil, "quantity": 800, "unit": "g"},
                  {"item_id": solution, "quantity": 200, "unit": "g"}]})

    async def run(recipe: dict[str, Any], made: float) -> dict[str, Any]:
        plan = await _post(gateway, owner, f"/api/v1/recipes/{recipe['id']}/plan", {})
        started = await gateway.post("/api/v1/batches/start", json={"plan_snapshot": plan},
                                     headers={**owner, "Prefer": "wait=9"})
        assert started.status_code == 201, started.text
        batch = started.json()
        finished = await _post(gateway, owner, f"/api/v1/batches/{batch['id']}/finish",
                               {"products": [{"quantity": made}]})
        assert finished["status"] == "finished"
        return batch

    # 60 g of lye from the oldest lot (0.02) and 140 g of water: 1.2 + 0.14 = 1.34 for 200 g
    lye_batch = await run(lye_recipe, 200)
    assert lye_batch["code"].startswith("LS-")

    async def solution_in_stock() -> None:
        lots = (await gateway.get(f"/api/v1/inventory/items/{solution}/lots",
                                  headers=owner)).json()["lots"]
        assert [(lot["quantity_remaining"], lot["unit_cost"]) for lot in lots] == [
            (200, 0.0067)]
    await eventually(solution_in_stock, timeout=20)

    # 800 g of oil (8) and the 200 g of solution (1.34): 9.34 over 10 bars
    soap_batch = await run(soap_recipe, 10)

    async def bars() -> dict[str, Any]:
        lots = (await gateway.get(f"/api/v1/inventory/items/{soap}/lots",
                                  headers=owner)).json()["lots"]
        assert len(lots) == 1
        return lots[0]  # type: ignore[no-any-return]
    bar_lot = await eventually(bars, timeout=20)
    assert (bar_lot["lot_number"], bar_lot["quantity_remaining"], bar_lot["unit_cost"]) == (
        soap_batch["code"], 10, 0.934)
    trace = (await gateway.get(f"/api/v1/inventory/trace/lots/{oldest_lye}",
                               headers=owner)).json()
    assert bar_lot["id"] in {lot["id"] for lot in trace["forward"]["lots"]}
