"""Finishing a batch: its products made at their exact share of the batch's actual cost."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI

from batches.testing import START, plan, published
from contracts import BatchFinished
from inventory.models import Lot
from inventory.testing import Stockroom
from servicekit.testing.plugin import eventually

API = "/api/v1/batches"


async def in_progress(client: httpx.AsyncClient, headers: dict[str, str],
                      inventory: Stockroom, cost: str = "10", **extra: Any) -> dict[str, Any]:
    """A batch in progress whose stock cost exactly `cost`."""
    oil = uuid.uuid4()
    await inventory.stock(oil, 1000, Decimal(cost) / 1000)
    response = await client.post(START, headers=headers,
                                 json={"plan_snapshot": plan((oil, 1000), **extra)})
    assert response.status_code == 201, response.text
    return response.json()


async def finish(client: httpx.AsyncClient, headers: dict[str, str], batch: dict[str, Any],
                 **body: Any) -> httpx.Response:
    return await client.post(f"{API}/{batch['id']}/finish", headers=headers, json=body)


async def lots_made(inventory: Stockroom, batch: dict[str, Any], count: int) -> list[Lot]:
    """The `count` lots inventory made of the batch's outputs, once it has made them."""
    async def made() -> list[Lot]:
        lots = await inventory.lots_made(uuid.UUID(batch["id"]))
        assert len(lots) == count
        return lots
    return await eventually(made)


async def test_a_finished_batch_makes_its_product_at_the_actual_cost_over_the_yield(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    soap = await inventory.item(uuid.uuid4(), "bars", type="product")
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
    [event] = await published(app, org, BatchFinished)
    assert (event.batch_code, event.batch_type, event.total_cost) == (batch["code"], "product",
                                                                      10)
    [made] = event.outputs
    assert (made.item_id, made.quantity, made.unit, made.unit_cost, made.lot_number) == (
        soap, 8, "bars", Decimal("1.25"), batch["code"])
    assert event.waste is not None and event.waste.quantity == 2
    [lot] = await lots_made(inventory, batch, 1)
    assert (lot.item_id, lot.quantity_remaining, lot.unit_cost, lot.lot_number) == (
        soap, 8, Decimal("1.25"), batch["code"])


async def test_products_in_one_unit_share_the_cost_by_quantity_to_the_last_cent(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    soap = await inventory.item(uuid.uuid4(), "bars", type="product")
    gift = await inventory.item(uuid.uuid4(), "bars", type="product")
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
    lots = {lot.id: lot.lot_number for lot in await lots_made(inventory, batch, 3)}
    priced = {lots[m.lot_id]: m.cost for m in await inventory.movements(uuid.UUID(batch["id"]))
              if m.kind == "batch_output" and m.lot_id is not None}
    assert priced == {o["lot_number"]: cost for o, cost in zip(outputs, costs, strict=True)}


async def test_products_in_different_units_need_cost_shares(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    soap = await inventory.item(uuid.uuid4(), "bars", type="product")
    scraps = await inventory.item(uuid.uuid4(), "g")
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
    assert len(await published(app, org, BatchFinished)) == 1
    lots = await lots_made(inventory, shared.json(), 2)
    assert [(lot.item_id, lot.quantity_remaining, lot.unit_cost) for lot in lots] == [
        (soap, 8, Decimal("1.125")), (scraps, 250, Decimal("0.004"))]


async def test_expiry_comes_from_the_product_or_its_shelf_life_days(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    soap = await inventory.item(uuid.uuid4(), "bars", type="product", shelf_life_days=90)
    batch = await in_progress(client, headers, inventory)
    expires = datetime(2027, 6, 1, tzinfo=UTC)

    response = await finish(client, headers, batch, products=[
        {"product_sku_id": str(soap), "quantity": 4, "expires_at": expires.isoformat()},
        {"product_sku_id": str(soap), "quantity": 4, "shelf_life_days": 30},
        {"product_sku_id": str(soap), "quantity": 2}])

    assert response.status_code == 200, response.text
    [event] = await published(app, org, BatchFinished)
    first, second, third = event.outputs
    assert first.expires_at == expires
    assert second.expires_at is not None
    assert abs(second.expires_at - (datetime.now(UTC) + timedelta(days=30))) < timedelta(
        minutes=1)
    assert third.expires_at is None  # inventory applies the item's own shelf life
    lots = {lot.lot_number: lot.expires_at for lot in await lots_made(inventory, batch, 3)}
    assert [lots[o.lot_number] for o in event.outputs[:2]] == [first.expires_at,
                                                               second.expires_at]
    own = lots[third.lot_number]
    assert own is not None
    assert abs(own - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=1)


async def test_the_product_defaults_to_the_plans_output_item_and_unit(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    blend = await inventory.item(uuid.uuid4(), "g")
    batch = await in_progress(client, headers, inventory, batch_type="ingredient",
                              output_item_id=str(blend), projected_yield_unit="g")

    response = await finish(client, headers, batch, products=[{"quantity": 950}])

    assert response.status_code == 200, response.text
    [event] = await published(app, org, BatchFinished)
    assert event.batch_type == "ingredient"
    assert [(o.item_id, o.quantity, o.unit) for o in event.outputs] == [(blend, 950, "g")]
    [lot] = await lots_made(inventory, batch, 1)
    assert (lot.item_id, lot.quantity_remaining) == (blend, 950)


async def test_a_product_without_an_item_is_a_422_when_the_plan_names_none(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    batch = await in_progress(client, headers, inventory)

    response = await finish(client, headers, batch, products=[{"quantity": 10}])

    assert response.status_code == 422
    assert "products.0.product_sku_id" in response.json()["error"]["details"]["fields"]
    got = (await client.get(f"{API}/{batch['id']}", headers=headers)).json()
    assert got["status"] == "in_progress"
    assert await published(app, org, BatchFinished) == []


async def test_only_a_batch_in_progress_can_be_finished(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    soap = await inventory.item(uuid.uuid4(), "bars", type="product")
    batch = await in_progress(client, headers, inventory)
    products = [{"product_sku_id": str(soap), "quantity": 10}]
    assert (await finish(client, headers, batch, products=products)).status_code == 200

    again = await finish(client, headers, batch, products=products)

    assert again.status_code == 409
    assert again.json()["error"]["details"]["status"] == "finished"
    assert len(await published(app, org, BatchFinished)) == 1
    [lot] = await lots_made(inventory, batch, 1)
    assert lot.quantity_remaining == 10


async def test_a_batch_that_cost_nothing_makes_products_at_zero(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    soap = await inventory.item(uuid.uuid4(), "bars", type="product")
    batch = await in_progress(client, headers, inventory, cost="0")

    response = await finish(client, headers, batch,
                            products=[{"product_sku_id": str(soap), "quantity": 3}])

    assert response.json()["outputs"][0]["unit_cost"] == 0
    assert response.json()["costing"]["cost_per_yield_unit"] == 0
    [lot] = await lots_made(inventory, batch, 1)
    assert (lot.quantity_remaining, lot.unit_cost) == (3, 0)


async def test_finishing_into_an_item_inventory_lacks_or_cannot_count_so_is_refused(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    soap = await inventory.item(uuid.uuid4(), "count", type="product")
    batch = await in_progress(client, headers, inventory)

    unknown = await finish(client, headers, batch, products=[
        {"product_sku_id": str(uuid.uuid4()), "quantity": 8, "unit": "count"}])
    uncountable = await finish(client, headers, batch, products=[
        {"product_sku_id": str(soap), "quantity": 8, "unit": "kg"}])

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "UNKNOWN_REFERENCE")
    assert "products.0.item" in unknown.json()["error"]["details"]["fields"]
    assert (uncountable.status_code, uncountable.json()["error"]["code"]) == (
        422, "INCOMPATIBLE_UNITS")
    assert "products.0.unit" in uncountable.json()["error"]["details"]["fields"]
    after = (await client.get(f"{API}/{batch['id']}", headers=headers)).json()
    assert after["status"] == "in_progress"
    assert await published(app, org, BatchFinished) == []
