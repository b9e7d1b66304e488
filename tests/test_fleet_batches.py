"""The batch saga across the fleet: batches and the real inventory as separate processes over
RabbitMQ and PostgreSQL, driven only through the gateway. Plans are made by hand (seed 000's
`plan_snapshot`), as a client holding one from the recipes service would send them."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from servicekit.testing.plugin import eventually
from tests.conftest import Fleet, register_organization

pytestmark = pytest.mark.fleet

Headers = dict[str, str]
BATCHES = "/api/v1/batches"
INVENTORY = "/api/v1/inventory"
WAIT = {"Prefer": "wait=9"}


async def item(gateway: httpx.AsyncClient, owner: Headers, name: str, kind: str = "ingredient",
               unit: str = "g", **extra: Any) -> str:
    response = await gateway.post(f"{INVENTORY}/items", headers=owner, json={
        "name": f"{name} {uuid.uuid4().hex[:6]}", "type": kind, "default_unit": unit, **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def restock(gateway: httpx.AsyncClient, owner: Headers, item_id: str, quantity: Any,
                  cost: Any) -> str:
    """A new lot (the newest, so the last FIFO takes from); its id."""
    response = await gateway.post(f"{INVENTORY}/adjustments", headers=owner, json={
        "adjustments": [{"item_id": item_id, "adjustment_type": "restock",
                         "quantity": quantity, "cost_per_unit": cost}]})
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["movements"][0]["lot_id"])


async def lots(gateway: httpx.AsyncClient, owner: Headers, item_id: str) -> dict[str, Any]:
    """The item's lots by id, used-up ones included."""
    response = await gateway.get(f"{INVENTORY}/items/{item_id}/lots",
                                 params={"include_empty": "true"}, headers=owner)
    assert response.status_code == 200, response.text
    return {lot["id"]: lot for lot in response.json()["lots"]}


def plan(*ingredients: tuple[str, Any], containers: tuple[tuple[str, int], ...] = (),
         **extra: Any) -> dict[str, Any]:
    return {
        "recipe_id": str(uuid.uuid4()), "recipe_version": 1, "recipe_name": "Milk and Honey",
        "projected_yield": 8, "projected_yield_unit": "bars",
        "ingredients_plan": [{"inventory_item_id": i, "quantity": q, "unit": "g"}
                             for i, q in ingredients],
        "containers": [{"id": c, "quantity": n} for c, n in containers],
        **extra,
    }


async def start(gateway: httpx.AsyncClient, owner: Headers, snapshot: dict[str, Any],
                **headers: str) -> httpx.Response:
    return await gateway.post(f"{BATCHES}/start", headers={**owner, **WAIT, **headers},
                              json={"plan_snapshot": snapshot})


async def create_batch(gateway: httpx.AsyncClient, owner: Headers) -> str:
    """A batch in progress (for tests/test_tenant_isolation.py's CREATORS)."""
    oil = await item(gateway, owner, "Olive oil")
    await restock(gateway, owner, oil, 100, "0.01")
    response = await start(gateway, owner, plan((oil, 10)))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_batch_takes_the_oldest_lots_and_makes_product_lots_at_its_actual_cost(
    gateway: httpx.AsyncClient, owner: Headers,
) -> None:
    oil = await item(gateway, owner, "Olive oil")
    lye = await item(gateway, owner, "Lye")
    jar = await item(gateway, owner, "Tin", kind="container", unit="count")
    soap = await item(gateway, owner, "Milk and honey bar", kind="product", unit="bars",
                      count_unit="bars", sku=f"MAH-{uuid.uuid4().hex[:6]}")
    oldest = await restock(gateway, owner, oil, 500, "0.01")
    newer = await restock(gateway, owner, oil, 1000, "0.02")
    lye_lot = await restock(gateway, owner, lye, 200, "0.05")
    await restock(gateway, owner, jar, 10, "0.5")

    started = await start(gateway, owner, plan((oil, 700), (lye, 100), containers=((jar, 4),),
                                               estimated_cost=14))

    assert started.status_code == 201, started.text
    batch = started.json()
    assert (batch["status"], batch["success"], batch["batch_id"]) == (
        "in_progress", True, batch["id"])
    assert batch["actual_cost"] == 5 + 4 + 5 + 2
    oil_lots = await lots(gateway, owner, oil)
    assert (oil_lots[oldest]["quantity_remaining"], oil_lots[newer]["quantity_remaining"]) == (
        0, 800)
    summary = (await gateway.get(f"{BATCHES}/{batch['id']}/inventory-summary",
                                 headers=owner)).json()
    assert [(i["item_id"], [(lot["lot_id"], lot["quantity"], lot["cost"]) for lot in i["lots"]])
            for i in summary["items"]] == [
        (oil, [(oldest, 500, 5), (newer, 200, 4)]), (lye, [(lye_lot, 100, 5)]),
        (jar, [(next(iter(await lots(gateway, owner, jar))), 4, 2)])]

    finished = await gateway.post(f"{BATCHES}/{batch['id']}/finish", headers=owner, json={
        "products": [{"product_sku_id": soap, "quantity": 8, "notes": "2 bars broke"}],
        "batch_notes": "Good trace"})

    assert finished.status_code == 200, finished.text
    assert finished.json()["costing"]["cost_per_yield_unit"] == 2
    assert finished.json()["costing"]["variance"] == 2

    async def product_lot() -> dict[str, Any]:
        made = list((await lots(gateway, owner, soap)).values())
        assert len(made) == 1
        return made[0]
    made = await eventually(product_lot, timeout=20)
    assert (made["lot_number"], made["quantity_remaining"], made["unit_cost"],
            made["batch_id"]) == (batch["code"], 8, 2, batch["id"])
    trace = (await gateway.get(f"{INVENTORY}/trace/lots/{oldest}", headers=owner)).json()
    assert made["id"] in [lot["id"] for lot in trace["forward"]["lots"]]
    assert batch["id"] in [b["batch_id"] for b in trace["forward"]["batches"]]


async def test_a_short_start_is_a_409_and_takes_nothing_anywhere(
    gateway: httpx.AsyncClient, owner: Headers,
) -> None:
    oil, lye = await item(gateway, owner, "Olive oil"), await item(gateway, owner, "Lye")
    oil_lot = await restock(gateway, owner, oil, 1000, "0.01")
    await restock(gateway, owner, lye, 10, "0.05")

    response = await start(gateway, owner, plan((oil, 500), (lye, 50)))

    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "STOCK_INSUFFICIENT"
    assert [(s["item_id"], s["needed"], s["available"]) for s in error["details"]["shortages"]
            ] == [(lye, 50, 10)]
    assert (await lots(gateway, owner, oil))[oil_lot]["quantity_remaining"] == 1000
    movements = (await gateway.get(f"{INVENTORY}/movements", headers=owner, params={
        "batch_id": error["details"]["batch_id"]})).json()
    assert movements["total"] == 0
    batch = (await gateway.get(f"{BATCHES}/{error['details']['batch_id']}",
                               headers=owner)).json()
    assert batch["status"] == "failed"


async def test_the_same_start_sent_twice_under_one_idempotency_key_is_one_batch(
    gateway: httpx.AsyncClient, owner: Headers,
) -> None:
    oil = await item(gateway, owner, "Olive oil")
    lot = await restock(gateway, owner, oil, 1000, "0.01")
    snapshot = plan((oil, 100))

    first, again = await asyncio.gather(*(start(gateway, owner, snapshot,
                                                **{"Idempotency-Key": "one-batch"})
                                          for _ in range(2)))

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert (await gateway.get(BATCHES, headers=owner)).json()["total"] == 1
    assert (await lots(gateway, owner, oil))[lot]["quantity_remaining"] == 900


async def test_thirty_starts_competing_for_stock_for_ten_let_exactly_ten_through(
    gateway: httpx.AsyncClient,
) -> None:
    owner = await register_organization(gateway, "Busy Soaps")
    oil = await item(gateway, owner, "Olive oil")
    await restock(gateway, owner, oil, 600, "0.01")
    await restock(gateway, owner, oil, 400, "0.02")

    responses = await asyncio.gather(*(start(gateway, owner, plan((oil, 100)))
                                       for _ in range(30)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 20, [r.text for r in responses
                                                 if r.status_code not in (201, 409)]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "STOCK_INSUFFICIENT"}
    assert sum(r.json()["actual_cost"] for r in responses if r.status_code == 201) == 14
    assert sum(lot["quantity_remaining"] for lot in (await lots(gateway, owner, oil)).values()
               ) == 0
    check = (await gateway.get(f"{INVENTORY}/ledger/check", headers=owner)).json()
    assert check == {"consistent": True, "discrepancies": []}
    listed = (await gateway.get(BATCHES, headers=owner, params={
        "status": "in_progress", "per_page": 100})).json()
    assert listed["total"] == 10
    assert len({b["code"] for b in listed["items"]}) == 10


async def test_a_cancelled_batch_returns_its_stock_to_the_exact_lots(
    gateway: httpx.AsyncClient, owner: Headers,
) -> None:
    oil = await item(gateway, owner, "Olive oil")
    first = await restock(gateway, owner, oil, 300, "0.01")
    second = await restock(gateway, owner, oil, 300, "0.02")
    batch = (await start(gateway, owner, plan((oil, 400)))).json()
    before = await lots(gateway, owner, oil)
    assert (before[first]["quantity_remaining"], before[second]["quantity_remaining"]) == (0, 200)

    response = await gateway.post(f"{BATCHES}/{batch['id']}/cancel", headers={**owner, **WAIT},
                                  json={"reason": "Trace came too early"})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    after = await lots(gateway, owner, oil)
    assert (after[first]["quantity_remaining"], after[second]["quantity_remaining"]) == (
        300, 300)
    movements = (await gateway.get(f"{INVENTORY}/movements", headers=owner,
                                   params={"batch_id": batch["id"]})).json()["items"]
    net: dict[str, float] = {}
    for movement in movements:
        net[movement["lot_id"]] = net.get(movement["lot_id"], 0) + movement["quantity"]
    assert net == {first: 0, second: 0}


async def test_a_base_batch_split_into_variants_makes_traceable_variant_lots(
    gateway: httpx.AsyncClient, owner: Headers,
) -> None:
    oil = await item(gateway, owner, "Olive oil")
    base = await item(gateway, owner, "Soap base")
    scents = [await item(gateway, owner, name, kind="product", unit="bars", count_unit="bars",
                         sku=f"{name[:3].upper()}-{uuid.uuid4().hex[:6]}")
              for name in ("Lavender bar", "Rose bar")]
    oil_lot = await restock(gateway, owner, oil, 3000, "0.01")
    batch = (await start(gateway, owner, plan((oil, 3000), batch_type="ingredient",
                                              output_item_id=base, projected_yield=3000,
                                              projected_yield_unit="g"))).json()
    finished = await gateway.post(f"{BATCHES}/{batch['id']}/finish", headers=owner,
                                  json={"products": [{"quantity": 3000}]})
    assert finished.status_code == 200, finished.text

    async def base_lot() -> None:
        assert await lots(gateway, owner, base)
    await eventually(base_lot, timeout=20)

    response = await gateway.post(f"{BATCHES}/{batch['id']}/split", headers={**owner, **WAIT},
                                  json={"variants": [
                                      {"output_item_id": s, "quantity": 10, "unit": "bars"}
                                      for s in scents]})

    assert response.status_code == 201, response.text
    variants = response.json()["variants"]
    assert [(v["code"], v["status"], v["actual_cost"]) for v in variants] == [
        (f"{batch['code']}-A", "finished", 15), (f"{batch['code']}-B", "finished", 15)]

    async def variant_lots() -> list[dict[str, Any]]:
        made = [lot for scent in scents for lot in (await lots(gateway, owner, scent)).values()]
        assert len(made) == 2
        return made
    made = await eventually(variant_lots, timeout=20)
    assert [(lot["lot_number"], lot["unit_cost"]) for lot in made] == [
        (variants[0]["code"], 1.5), (variants[1]["code"], 1.5)]
    trace = (await gateway.get(f"{INVENTORY}/trace/lots/{oil_lot}", headers=owner)).json()
    assert {lot["id"] for lot in made} <= {lot["id"] for lot in trace["forward"]["lots"]}


async def test_a_start_while_inventorys_worker_is_down_is_202_and_completes_after_it_returns(
    gateway: httpx.AsyncClient, owner: Headers, fleet: Fleet,
) -> None:
    oil = await item(gateway, owner, "Olive oil")
    lot = await restock(gateway, owner, oil, 1000, "0.01")
    with fleet.down("inventory-worker"):
        response = await start(gateway, owner, plan((oil, 250)), Prefer="wait=2")
        assert response.status_code == 202, response.text
        batch = response.json()
        assert (batch["status"], batch["success"]) == ("pending", True)
        assert (await lots(gateway, owner, oil))[lot]["quantity_remaining"] == 1000

    async def in_progress() -> dict[str, Any]:
        got = (await gateway.get(f"{BATCHES}/{batch['id']}", headers=owner)).json()
        assert got["status"] == "in_progress"
        return got
    done = await eventually(in_progress, timeout=30)
    assert done["actual_cost"] == 2.5
    assert (await lots(gateway, owner, oil))[lot]["quantity_remaining"] == 750
