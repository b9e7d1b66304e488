"""Splitting a finished base batch into variants: each a batch of its own that takes its share
of the base through inventory and is finished with the variant product at that cost."""

import uuid
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI

from batches.testing import START, plan, published
from contracts import BatchStarted
from inventory.models import Lot
from inventory.testing import Stockroom
from servicekit.testing.plugin import eventually

API = "/api/v1/batches"


async def finished_base(client: httpx.AsyncClient, headers: dict[str, str],
                        inventory: Stockroom, base: uuid.UUID,
                        grams: int = 3000) -> dict[str, Any]:
    """A batch that made `grams` of soap base for 30 (0.01 a gram), received by inventory."""
    oil = uuid.uuid4()
    await inventory.stock(oil, 1500, "0.02")
    await inventory.item(base, "g")
    started = (await client.post(START, headers=headers, json={"plan_snapshot": plan(
        (oil, 1500), recipe_name="Soap base", batch_type="ingredient",
        output_item_id=str(base), projected_yield=grams, projected_yield_unit="g")})).json()
    finished = await client.post(f"{API}/{started['id']}/finish", headers=headers,
                                 json={"products": [{"quantity": grams}]})
    assert finished.status_code == 200, finished.text
    await base_lot(inventory, finished.json())
    return finished.json()


async def base_lot(inventory: Stockroom, parent: dict[str, Any]) -> Lot:
    """The lot inventory made of the base batch's output, once it has made it."""
    [lot] = await eventually(lambda: _made_by(inventory, parent, 1))
    return lot


async def products(inventory: Stockroom, count: int, unit: str = "bars") -> list[uuid.UUID]:
    """`count` new products in inventory, kept in `unit`: what variants are made as."""
    return [await inventory.item(uuid.uuid4(), unit, type="product") for _ in range(count)]


def variants(*entries: tuple[uuid.UUID, int], **extra: Any) -> list[dict[str, Any]]:
    return [{"output_item_id": str(item), "quantity": quantity, "unit": "bars", **extra}
            for item, quantity in entries]


async def test_a_base_split_three_ways_makes_three_finished_variants_with_their_cost(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    base = uuid.uuid4()
    lavender, rose, mint = await products(inventory, 3)
    parent = await finished_base(client, headers, inventory, base)

    response = await client.post(f"{API}/{parent['id']}/split", headers=headers, json={
        "variants": variants((lavender, 10), (rose, 10), (mint, 10))})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["parent_batch_id"] == parent["id"]
    made = body["variants"]
    assert [v["code"] for v in made] == [f"{parent['code']}-{x}" for x in "ABC"]
    assert {v["status"] for v in made} == {"finished"}
    assert {v["parent_batch_id"] for v in made} == {parent["id"]}
    assert [(v["actual_cost"], v["estimated_cost"]) for v in made] == [(10, 10)] * 3
    assert [(o["item_id"], o["quantity"], o["unit_cost"], o["lot_number"])
            for v in made for o in v["outputs"]] == [
        (str(lavender), 10, 1, made[0]["code"]), (str(rose), 10, 1, made[1]["code"]),
        (str(mint), 10, 1, made[2]["code"])]
    # Each variant took its base from inventory, from the base batch's own lot.
    lot = await base_lot(inventory, parent)
    assert (lot.item_id, lot.lot_number) == (base, parent["code"])
    assert await inventory.remaining(lot.id) == 0
    started = (await published(app, org, BatchStarted))[1:]
    for variant, start in zip(made, started, strict=True):
        assert [(line.item_id, line.quantity, line.unit) for line in start.lines] == [
            (base, 1000, "g")]
        assert str(start.batch_id) == variant["id"]
        taken, *_ = await inventory.movements(start.batch_id)
        assert (taken.lot_id, taken.quantity, taken.kind) == (lot.id, -1000,
                                                              "batch_consumption")
    # ... and inventory made each variant's product from it.
    for variant, item in zip(made, (lavender, rose, mint), strict=True):
        [product] = await eventually(lambda v=variant: _made_by(inventory, v, 1))
        assert (product.item_id, product.quantity_remaining, product.unit_cost,
                product.lot_number) == (item, 10, 1, variant["code"])
    listed = (await client.get(f"{API}/{parent['id']}", headers=headers)).json()
    assert [v["code"] for v in listed["variants"]] == [v["code"] for v in made]


async def test_cost_shares_decide_how_much_base_each_variant_takes(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    base = uuid.uuid4()
    [big] = await products(inventory, 1, "jars")
    [small] = await products(inventory, 1)
    parent = await finished_base(client, headers, inventory, base)

    response = await client.post(f"{API}/{parent['id']}/split", headers=headers, json={
        "variants": [{"output_item_id": str(big), "quantity": 6, "unit": "jars",
                      "cost_share": 2},
                     {"output_item_id": str(small), "quantity": 12, "unit": "bars",
                      "cost_share": 1}]})

    assert response.status_code == 201, response.text
    assert [(v["actual_cost"], v["outputs"][0]["unit_cost"])
            for v in response.json()["variants"]] == [(20, 3.33333333), (10, 0.83333333)]
    lot = await base_lot(inventory, parent)
    assert await inventory.remaining(lot.id) == 0


async def test_a_base_cannot_give_more_than_it_made_across_splits(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    base = uuid.uuid4()
    lavender, rose = await products(inventory, 2)
    parent = await finished_base(client, headers, inventory, base)
    path = f"{API}/{parent['id']}/split"
    first = await client.post(path, headers=headers, json={
        "variants": variants((lavender, 20), base_quantity=2000)})

    too_much = await client.post(path, headers=headers, json={
        "variants": variants((rose, 20), base_quantity=1500)})
    rest = await client.post(path, headers=headers, json={"variants": variants((rose, 10))})

    assert first.status_code == 201
    assert too_much.status_code == 422
    assert too_much.json()["error"]["details"]["available"] == 1000
    assert rest.status_code == 201, rest.text
    [variant] = rest.json()["variants"]
    assert variant["code"] == f"{parent['code']}-B"
    assert variant["lines"][0]["quantity"] == 1000
    assert variant["status"] == "finished"
    assert await inventory.remaining((await base_lot(inventory, parent)).id) == 0


async def test_only_a_finished_batch_can_be_split(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    oil = uuid.uuid4()
    await inventory.stock(oil, 100)
    running = (await client.post(START, headers=headers,
                                 json={"plan_snapshot": plan((oil, 10))})).json()

    response = await client.post(f"{API}/{running['id']}/split", headers=headers,
                                 json={"variants": variants((uuid.uuid4(), 1))})

    assert response.status_code == 409
    assert response.json()["error"]["details"]["status"] == "in_progress"


async def test_a_variant_whose_base_is_gone_fails_on_its_own(
    client: httpx.AsyncClient, inventory_client: httpx.AsyncClient, headers: dict[str, str],
    inventory: Stockroom,
) -> None:
    base = uuid.uuid4()
    [lavender] = await products(inventory, 1)
    parent = await finished_base(client, headers, inventory, base)
    sold = await inventory_client.post("/api/v1/inventory/adjustments", headers=headers, json={
        "adjustments": [{"item_id": str(base), "adjustment_type": "sale", "quantity": 2990}]})
    assert sold.status_code == 200, sold.text

    response = await client.post(f"{API}/{parent['id']}/split", headers=headers,
                                 json={"variants": variants((lavender, 10))})

    assert response.status_code == 201
    [variant] = response.json()["variants"]
    assert variant["status"] == "failed"
    assert variant["shortages"][0]["available"] == 10
    assert await inventory.remaining((await base_lot(inventory, parent)).id) == Decimal(10)


async def _made_by(inventory: Stockroom, batch: dict[str, Any], count: int) -> list[Lot]:
    lots = await inventory.lots_made(uuid.UUID(batch["id"]))
    assert len(lots) == count
    return lots
