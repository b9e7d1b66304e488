"""Finishing a batch: its products made at their exact share of the batch's actual cost."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from batches.domain import on_scale
from batches.testing import START, FakeInventory, plan

API = "/api/v1/batches"


async def in_progress(client: httpx.AsyncClient, headers: dict[str, str],
                      inventory: FakeInventory, cost: str = "10", **extra: Any) -> dict[str, Any]:
    """A batch in progress whose stock cost exactly `cost`."""
    oil = uuid.uuid4()
    inventory.stock(oil, 1000, Decimal(cost) / 1000)
    response = await client.post(START, headers=headers,
                                 json={"plan_snapshot": plan((oil, 1000), **extra)})
    assert response.status_code == 201, response.text
    return response.json()


async def finish(client: httpx.AsyncClient, headers: dict[str, str], batch: dict[str, Any],
                 **body: Any) -> httpx.Response:
    return await client.post(f"{API}/{batch['id']}/finish", headers=headers, json=body)


async def test_a_finished_batch_makes_its_product_at_the_actual_cost_over_the_yield(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    soap = uuid.uuid4()
    batch = await in_progress(client, headers, inventory, cost="10", estimated_cost="8",
                              portioning={"is_portioned": True, "portion_name": "bars",
                                          "portion_count": 20})

    response = await finish(client, headers, batch, batch_notes="Good trace",
                            products=[{"product_sku_id": str(soap), "quantity": 8,
                                       "unit": "bars", "notes": "2 bars broke"}],
                            waste={"quantity": 2, "unit": "bars", "notes": "broke"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "finished"
    assert (body["yield_quantity"], body["yield_unit"], body["batch_notes"]) == (
        8, "bars", "Good trace")
    assert body["waste"] == {"quantity": 2, "unit": "bars", "notes": "broke"}
    [output] = body["outputs"]
    assert (output["item_id"], output["quantity"], output["unit_cost"], output["cost"],
            output["lot_number"]) == (str(soap), 8, 1.25, 10, batch["code"])
    assert body["costing"] == {
        "estimated_cost": 8, "actual_cost": 10, "cost_per_yield_unit": 1.25,
        "yield_quantity": 8, "yield_unit": "bars", "yield_is_actual": True,
        "cost_per_portion": 1.25, "portions": 8, "portion_name": "bars", "variance": 2,
        "variance_percent": 25, "cost_complete": True}
    [event] = inventory.finished
    assert (event.batch_code, event.batch_type, event.total_cost) == (batch["code"], "product",
                                                                      10)
    [made] = event.outputs
    assert (made.item_id, made.quantity, made.unit, made.unit_cost, made.lot_number) == (
        soap, 8, "bars", Decimal("1.25"), batch["code"])
    assert event.waste is not None and event.waste.quantity == 2


async def test_products_in_one_unit_share_the_cost_by_quantity_to_the_last_cent(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    soap = uuid.uuid4()
    gift = uuid.uuid4()
    batch = await in_progress(client, headers, inventory, cost="10")

    response = await finish(client, headers, batch, products=[
        {"product_sku_id": str(soap), "quantity": 1, "unit": "bars"},
        {"product_sku_id": str(soap), "quantity": 1, "unit": "bars"},
        {"product_sku_id": str(gift), "quantity": 1, "unit": "bars"}])

    assert response.status_code == 200, response.text
    outputs = response.json()["outputs"]
    costs = [Decimal(str(o["cost"])) for o in outputs]
    assert sum(costs) == 10
    assert sorted(costs) == [Decimal("3.33333333"), Decimal("3.33333333"), Decimal("3.33333334")]
    assert [o["lot_number"] for o in outputs] == [
        f"{batch['code']}-1", f"{batch['code']}-2", batch["code"]]
    # Inventory prices each lot as quantity x unit cost (on eight places): the same shares.
    assert sum(on_scale(o.quantity * o.unit_cost) for o in inventory.finished[0].outputs) == 10


async def test_products_in_different_units_need_cost_shares(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    soap, scraps = uuid.uuid4(), uuid.uuid4()
    batch = await in_progress(client, headers, inventory, cost="10")
    products = [{"product_sku_id": str(soap), "quantity": 8, "unit": "bars"},
                {"product_sku_id": str(scraps), "quantity": 250, "unit": "g"}]

    refused = await finish(client, headers, batch, products=products)
    shared = await finish(client, headers, batch, products=[
        {**products[0], "cost_share": 90}, {**products[1], "cost_share": 10}])

    assert refused.status_code == 422
    assert "cost_share" in refused.json()["error"]["message"]
    assert shared.status_code == 200, shared.text
    assert [(o["cost"], o["unit_cost"]) for o in shared.json()["outputs"]] == [
        (9, 1.125), (1, 0.004)]
    assert shared.json()["yield_quantity"] is None
    assert len(inventory.finished) == 1


async def test_expiry_comes_from_the_product_or_its_shelf_life_days(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    soap = uuid.uuid4()
    batch = await in_progress(client, headers, inventory)
    expires = datetime(2027, 6, 1, tzinfo=UTC)

    response = await finish(client, headers, batch, products=[
        {"product_sku_id": str(soap), "quantity": 4, "expires_at": expires.isoformat()},
        {"product_sku_id": str(soap), "quantity": 4, "shelf_life_days": 30},
        {"product_sku_id": str(soap), "quantity": 2}])

    assert response.status_code == 200, response.text
    first, second, third = inventory.finished[0].outputs
    assert first.expires_at == expires
    assert second.expires_at is not None
    assert abs(second.expires_at - (datetime.now(UTC) + timedelta(days=30))) < timedelta(
        minutes=1)
    assert third.expires_at is None  # inventory applies the item's own shelf life


async def test_the_product_defaults_to_the_plans_output_item_and_unit(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    blend = uuid.uuid4()
    batch = await in_progress(client, headers, inventory, batch_type="ingredient",
                              output_item_id=str(blend), projected_yield_unit="g")

    response = await finish(client, headers, batch, products=[{"quantity": 950}])

    assert response.status_code == 200, response.text
    [event] = inventory.finished
    assert event.batch_type == "ingredient"
    assert [(o.item_id, o.quantity, o.unit) for o in event.outputs] == [(blend, 950, "g")]


async def test_a_product_without_an_item_is_a_422_when_the_plan_names_none(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    batch = await in_progress(client, headers, inventory)

    response = await finish(client, headers, batch, products=[{"quantity": 10}])

    assert response.status_code == 422
    assert "products.0.product_sku_id" in response.json()["error"]["details"]["fields"]
    got = (await client.get(f"{API}/{batch['id']}", headers=headers)).json()
    assert got["status"] == "in_progress"
    assert inventory.finished == []


async def test_only_a_batch_in_progress_can_be_finished(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    soap = uuid.uuid4()
    batch = await in_progress(client, headers, inventory)
    products = [{"product_sku_id": str(soap), "quantity": 10}]
    assert (await finish(client, headers, batch, products=products)).status_code == 200

    again = await finish(client, headers, batch, products=products)

    assert again.status_code == 409
    assert again.json()["error"]["details"]["status"] == "finished"
    assert len(inventory.finished) == 1


async def test_a_batch_that_cost_nothing_makes_products_at_zero(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    soap = uuid.uuid4()
    batch = await in_progress(client, headers, inventory, cost="0")

    response = await finish(client, headers, batch,
                            products=[{"product_sku_id": str(soap), "quantity": 3}])

    assert response.json()["outputs"][0]["unit_cost"] == 0
    assert response.json()["costing"]["cost_per_yield_unit"] == 0
