"""Splitting a finished base batch into variants: each a batch of its own that takes its share
of the base through inventory and is finished with the variant product at that cost."""

import uuid
from decimal import Decimal
from typing import Any

import httpx

from batches.testing import START, FakeInventory, plan

API = "/api/v1/batches"


async def finished_base(client: httpx.AsyncClient, headers: dict[str, str],
                        inventory: FakeInventory, base: uuid.UUID,
                        grams: int = 3000) -> dict[str, Any]:
    """A batch that made `grams` of soap base for 30 (0.01 a gram)."""
    oil = uuid.uuid4()
    inventory.stock(oil, 1500, "0.02")
    started = (await client.post(START, headers=headers, json={"plan_snapshot": plan(
        (oil, 1500), recipe_name="Soap base", batch_type="ingredient",
        output_item_id=str(base), projected_yield=grams, projected_yield_unit="g")})).json()
    finished = await client.post(f"{API}/{started['id']}/finish", headers=headers,
                                 json={"products": [{"quantity": grams}]})
    assert finished.status_code == 200, finished.text
    return finished.json()


def variants(*entries: tuple[uuid.UUID, int], **extra: Any) -> list[dict[str, Any]]:
    return [{"output_item_id": str(item), "quantity": quantity, "unit": "bars", **extra}
            for item, quantity in entries]


async def test_a_base_split_three_ways_makes_three_finished_variants_with_their_cost(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    base, lavender, rose, mint = (uuid.uuid4() for _ in range(4))
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
    base_lot = next(lot for lot in inventory.lots if lot.item_id == base)
    assert base_lot.lot_number == parent["code"]
    assert base_lot.quantity == 0
    for variant, started in zip(made, inventory.started[1:], strict=True):
        assert [(line.item_id, line.quantity, line.unit) for line in started.lines] == [
            (base, 1000, "g")]
        assert str(started.batch_id) == variant["id"]
    listed = (await client.get(f"{API}/{parent['id']}", headers=headers)).json()
    assert [v["code"] for v in listed["variants"]] == [v["code"] for v in made]


async def test_cost_shares_decide_how_much_base_each_variant_takes(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    base, big, small = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    parent = await finished_base(client, headers, inventory, base)

    response = await client.post(f"{API}/{parent['id']}/split", headers=headers, json={
        "variants": [{"output_item_id": str(big), "quantity": 6, "unit": "jars",
                      "cost_share": 2},
                     {"output_item_id": str(small), "quantity": 12, "unit": "bars",
                      "cost_share": 1}]})

    assert response.status_code == 201, response.text
    assert [(v["actual_cost"], v["outputs"][0]["unit_cost"])
            for v in response.json()["variants"]] == [(20, 3.33333333), (10, 0.83333333)]


async def test_a_base_cannot_give_more_than_it_made_across_splits(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    base, lavender, rose = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
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


async def test_only_a_finished_batch_can_be_split(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    oil = uuid.uuid4()
    inventory.stock(oil, 100)
    running = (await client.post(START, headers=headers,
                                 json={"plan_snapshot": plan((oil, 10))})).json()

    response = await client.post(f"{API}/{running['id']}/split", headers=headers,
                                 json={"variants": variants((uuid.uuid4(), 1))})

    assert response.status_code == 409
    assert response.json()["error"]["details"]["status"] == "in_progress"


async def test_a_variant_whose_base_is_gone_fails_on_its_own(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: FakeInventory,
) -> None:
    base, lavender = uuid.uuid4(), uuid.uuid4()
    parent = await finished_base(client, headers, inventory, base)
    next(lot for lot in inventory.lots if lot.item_id == base).quantity = Decimal(10)  # sold

    response = await client.post(f"{API}/{parent['id']}/split", headers=headers,
                                 json={"variants": variants((lavender, 10))})

    assert response.status_code == 201
    [variant] = response.json()["variants"]
    assert variant["status"] == "failed"
    assert variant["shortages"][0]["available"] == 10
