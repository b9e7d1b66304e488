"""Cancelling a batch in every state: stock goes back to the exact lots, and never before
inventory has answered the start."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI

from batches.testing import START, plan, published
from contracts import BatchCancelled
from inventory.testing import Stockroom
from servicekit.testing.plugin import eventually

API = "/api/v1/batches"


async def start(client: httpx.AsyncClient, headers: dict[str, str], item: uuid.UUID,
                quantity: int = 300, prefer: str = "wait=5") -> dict[str, Any]:
    response = await client.post(START, headers={**headers, "Prefer": prefer},
                                 json={"plan_snapshot": plan((item, quantity))})
    assert response.status_code in (201, 202, 409), response.text
    body = response.json()
    return body if "id" in body else {"id": body["error"]["details"]["batch_id"]}


async def test_cancelling_a_batch_in_progress_returns_its_stock_to_the_exact_lots(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    oil = uuid.uuid4()
    lots = [await inventory.stock(oil, 200, "0.01"), await inventory.stock(oil, 200, "0.02")]
    batch = await start(client, headers, oil)
    assert [await inventory.remaining(lot) for lot in lots] == [0, 100]

    response = await client.post(f"{API}/{batch['id']}/cancel", headers=headers,
                                 json={"reason": "Lye solution spilled"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "Lye solution spilled")
    assert [await inventory.remaining(lot) for lot in lots] == [200, 200]
    [cancelled] = await published(app, org, BatchCancelled)
    assert (str(cancelled.batch_id), cancelled.reason) == (batch["id"], "Lye solution spilled")
    moved = [(m.lot_id, m.quantity) for m in await inventory.movements(cancelled.batch_id)]
    assert moved[:2] == [(lots[0], -200), (lots[1], -100)]
    assert set(moved[2:]) == {(lots[0], 200), (lots[1], 100)}  # returned, in no set order


async def test_a_cancel_before_inventory_answers_waits_for_the_answer_then_returns_the_stock(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory_down: Stockroom, start_inventory: Callable[[], Awaitable[FastAPI]],
) -> None:
    oil = uuid.uuid4()
    lot = await inventory_down.stock(oil, 500)
    batch = await start(client, headers, oil, prefer="respond-async")

    response = await client.post(f"{API}/{batch['id']}/cancel",
                                 headers={**headers, "Prefer": "wait=0.1"})

    assert response.status_code == 202
    assert response.json()["status"] == "cancelling"
    # Nothing to return yet: a cancel must not outrun the start it undoes.
    assert await published(app, org, BatchCancelled) == []
    await start_inventory()

    async def cancelled() -> None:
        body = (await client.get(f"{API}/{batch['id']}", headers=headers)).json()
        assert body["status"] == "cancelled"
    await eventually(cancelled)
    assert await inventory_down.handled(BatchCancelled) == 1
    assert await inventory_down.remaining(lot) == 500
    assert [m.quantity for m in await inventory_down.movements(uuid.UUID(batch["id"]))] == [
        -300, 300]


async def test_a_cancel_before_a_failed_start_ends_the_batch_cancelled_without_a_return(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory_down: Stockroom, start_inventory: Callable[[], Awaitable[FastAPI]],
) -> None:
    oil = uuid.uuid4()
    lot = await inventory_down.stock(oil, 10)
    batch = await start(client, headers, oil, prefer="respond-async")
    await client.post(f"{API}/{batch['id']}/cancel", headers={**headers, "Prefer": "wait=0"})

    await start_inventory()

    async def cancelled() -> None:
        body = (await client.get(f"{API}/{batch['id']}", headers=headers)).json()
        assert body["status"] == "cancelled"
        assert body["shortages"][0]["needed"] == 300
    await eventually(cancelled)
    assert await published(app, org, BatchCancelled) == []
    assert await inventory_down.remaining(lot) == 10


async def test_a_finished_failed_or_cancelled_batch_cannot_be_cancelled(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    oil, soap = uuid.uuid4(), uuid.uuid4()
    await inventory.stock(oil, 1000)
    await inventory.item(soap, "bars", type="product")
    finished = await start(client, headers, oil)
    await client.post(f"{API}/{finished['id']}/finish", headers=headers,
                      json={"products": [{"product_sku_id": str(soap), "quantity": 10}]})
    failed = await start(client, headers, oil, quantity=5000)
    cancelled = await start(client, headers, oil)
    await client.post(f"{API}/{cancelled['id']}/cancel", headers=headers)

    answers = [await client.post(f"{API}/{b['id']}/cancel", headers=headers)
               for b in (finished, failed, cancelled)]

    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [
        (409, "RESOURCE_CONFLICT")] * 3
    assert [a.json()["error"]["details"]["status"] for a in answers] == [
        "finished", "failed", "cancelled"]


async def test_a_cancel_repeated_under_its_idempotency_key_answers_the_batch_again(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    oil = uuid.uuid4()
    lot = await inventory.stock(oil, 1000)
    batch = await start(client, headers, oil)
    keyed = {**headers, "Idempotency-Key": "cancel-1"}

    first = await client.post(f"{API}/{batch['id']}/cancel", headers=keyed)
    again = await client.post(f"{API}/{batch['id']}/cancel", headers=keyed)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["status"] == "cancelled"
    assert len(await published(app, org, BatchCancelled)) == 1
    assert await inventory.handled(BatchCancelled) == 1
    assert await inventory.remaining(lot) == 1000
