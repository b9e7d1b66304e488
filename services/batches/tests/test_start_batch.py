"""Starting a batch: pending, then inventory's answer, waited for a bounded time."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from batches.models import Batch
from batches.testing import START, plan, published
from contracts import BatchStarted
from inventory.testing import Stockroom
from servicekit.messaging.tables import outbox
from servicekit.testing.plugin import eventually

API = "/api/v1/batches"


def today() -> str:
    return datetime.now(UTC).strftime("%Y%m%d")


async def test_a_started_batch_takes_its_stock_fifo_and_answers_201_in_progress(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    oil, lye, wrap, mould = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    oldest = await inventory.stock(oil, 500, "0.01")
    newer = await inventory.stock(oil, 1000, "0.02")
    lye_lot = await inventory.stock(lye, 100, "0.05")
    wrap_lot = await inventory.stock(wrap, 10, "0.25", unit="count")
    mould_lot = await inventory.stock(mould, 4, "2", unit="count")

    response = await client.post(START, headers=headers, json={
        "plan_snapshot": plan((oil, 700), (lye, 50), consumables=((wrap, 2),),
                              containers=((mould, 4),), estimated_cost="12"),
        "notes": "Double batch for holiday orders"})

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["success"], body["message"]) == (True, "Batch started successfully")
    assert body["batch_id"] == body["id"]
    assert response.headers["location"] == f"{API}/{body['id']}"
    assert body["status"] == "in_progress"
    assert body["code"] == f"MAH-{today()}-01"
    assert body["notes"] == "Double batch for holiday orders"
    assert body["actual_cost"] == 5 + 4 + 2.5 + 0.5 + 8
    assert body["costing"]["variance"] == 8
    assert body["started_at"] is not None
    [started] = await published(app, org, BatchStarted)
    assert [(line.item_id, line.quantity, line.unit, line.role) for line in started.lines] == [
        (oil, 700, "g", "ingredient"), (lye, 50, "g", "ingredient"),
        (wrap, 2, "count", "consumable"), (mould, 4, "count", "container")]
    assert started.batch_code == body["code"]
    taken = await inventory.movements(started.batch_id)
    assert [(m.lot_id, m.quantity, m.kind) for m in taken] == [
        (oldest, -500, "batch_consumption"), (newer, -200, "batch_consumption"),
        (lye_lot, -50, "batch_consumption"), (wrap_lot, -2, "batch_consumption"),
        (mould_lot, -4, "batch_consumption")]
    assert [await inventory.remaining(lot) for lot in (oldest, newer, lye_lot, wrap_lot,
                                                       mould_lot)] == [0, 800, 50, 8, 0]
    summary = (await client.get(f"{API}/{body['id']}/inventory-summary",
                                headers=headers)).json()
    assert [(i["item_id"], i["role"], i["quantity"], i["cost"],
             [(lot["lot_id"], lot["quantity"], lot["unit_cost"], lot["cost"])
              for lot in i["lots"]]) for i in summary["items"]] == [
        (str(oil), "ingredient", 700, 9, [(str(oldest), 500, 0.01, 5), (str(newer), 200, 0.02, 4)]),
        (str(lye), "ingredient", 50, 2.5, [(str(lye_lot), 50, 0.05, 2.5)]),
        (str(wrap), "consumable", 2, 0.5, [(str(wrap_lot), 2, 0.25, 0.5)]),
        (str(mould), "container", 4, 8, [(str(mould_lot), 4, 2, 8)]),
    ]
    assert summary["total_cost"] == 20
    shown = (await client.get(f"{API}/{body['id']}", headers=headers)).json()["plan_snapshot"]
    assert shown["ingredients_plan"][0] == {
        "inventory_item_id": str(oil), "item_name": None, "quantity": 700, "unit": "g",
        "estimated_unit_cost": None, "estimated_cost": None}
    assert shown["estimated_cost"] == 12


async def test_a_start_short_of_stock_answers_409_with_the_shortages_and_the_batch_failed(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    oil, lye = uuid.uuid4(), uuid.uuid4()
    lot = await inventory.stock(oil, 500)
    await inventory.stock(lye, 10)

    response = await client.post(START, headers=headers, json={
        "plan_snapshot": plan((oil, 400), (lye, 50, "g"))})

    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "STOCK_INSUFFICIENT"
    assert error["details"]["shortages"] == [{
        "item_id": str(lye), "item_name": None, "needed": 50, "available": 10, "unit": "g",
        "reason": "insufficient"}]
    assert await inventory.remaining(lot) == 500
    batch = (await client.get(f"{API}/{error['details']['batch_id']}", headers=headers)).json()
    assert batch["status"] == "failed"
    assert batch["code"] == error["details"]["batch_code"]
    assert batch["failed_at"] is not None
    assert batch["actual_cost"] is None


async def test_a_start_answers_202_pending_when_inventory_is_slow_and_completes_later(
    client: httpx.AsyncClient, headers: dict[str, str], inventory_down: Stockroom,
    start_inventory: Callable[[], Awaitable[FastAPI]],
) -> None:
    oil = uuid.uuid4()
    await inventory_down.stock(oil, 500, "0.01")

    response = await client.post(START, headers={**headers, "Prefer": "wait=0.2"},
                                 json={"plan_snapshot": plan((oil, 100))})

    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["status"], body["success"], body["batch_id"]) == ("pending", True, body["id"])
    await start_inventory()  # its worker comes up and takes the start from its queue

    async def in_progress() -> None:
        batch = (await client.get(f"{API}/{body['id']}", headers=headers)).json()
        assert batch["status"] == "in_progress"
        assert batch["actual_cost"] == 1
    await eventually(in_progress)


async def test_a_waiting_start_is_answered_as_soon_as_the_outcome_is_recorded(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory_down: Stockroom, start_inventory: Callable[[], Awaitable[FastAPI]],
) -> None:
    oil = uuid.uuid4()
    await inventory_down.stock(oil, 500)
    began = time.monotonic()
    request = asyncio.create_task(client.post(START, headers={**headers, "Prefer": "wait=9"},
                                              json={"plan_snapshot": plan((oil, 100))}))
    await eventually(lambda: _relayed(app, org))

    await start_inventory()

    response = await request
    assert response.status_code == 201, response.text
    assert time.monotonic() - began < 2


async def _relayed(app: FastAPI, org: uuid.UUID) -> None:
    """The organization's BatchStarted has left batches' outbox for inventory's queue."""
    async with app.state.db.sessionmaker() as session:
        assert await session.scalar(sa.select(outbox.c.sent_at).where(
            outbox.c.org_id == str(org),
            outbox.c.routing_key == BatchStarted.routing_key())) is not None


async def test_respond_async_answers_202_at_once(
    client: httpx.AsyncClient, headers: dict[str, str], inventory_down: Stockroom,
) -> None:
    oil = uuid.uuid4()
    await inventory_down.stock(oil, 500)

    response = await client.post(START, headers={**headers, "Prefer": "respond-async"},
                                 json={"plan_snapshot": plan((oil, 100))})

    assert response.status_code == 202
    assert response.json()["message"] == "Batch accepted; inventory has not answered yet"


async def test_the_same_start_sent_twice_under_one_idempotency_key_makes_one_batch(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    oil = uuid.uuid4()
    lot = await inventory.stock(oil, 500)
    keyed = {**headers, "Idempotency-Key": "start-1"}
    body = {"plan_snapshot": plan((oil, 100))}

    first = await client.post(START, headers=keyed, json=body)
    again = await client.post(START, headers=keyed, json=body)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["code"] == first.json()["code"]
    assert await inventory.handled(BatchStarted) == 1
    assert await inventory.remaining(lot) == 400
    listed = (await client.get(API, headers=headers)).json()
    assert listed["total"] == 1


async def test_a_repeat_of_a_start_answered_202_answers_with_the_outcome(
    client: httpx.AsyncClient, headers: dict[str, str], inventory_down: Stockroom,
    start_inventory: Callable[[], Awaitable[FastAPI]],
) -> None:
    oil = uuid.uuid4()
    lot = await inventory_down.stock(oil, 500)
    keyed = {**headers, "Idempotency-Key": "slow-1", "Prefer": "wait=0.1"}
    body = {"plan_snapshot": plan((oil, 100))}
    first = await client.post(START, headers=keyed, json=body)
    assert first.status_code == 202

    await start_inventory()
    again = await client.post(START, headers={**keyed, "Prefer": "wait=5"}, json=body)

    assert again.status_code == 201
    assert (again.json()["id"], again.json()["status"]) == (first.json()["id"], "in_progress")
    assert await inventory_down.handled(BatchStarted) == 1
    assert await inventory_down.remaining(lot) == 400


async def test_concurrent_starts_under_one_idempotency_key_make_one_batch(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    oil = uuid.uuid4()
    lot = await inventory.stock(oil, 500)
    keyed = {**headers, "Idempotency-Key": "racing"}
    body = {"plan_snapshot": plan((oil, 100))}

    responses = await asyncio.gather(*(client.post(START, headers=keyed, json=body)
                                       for _ in range(8)))

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await inventory.handled(BatchStarted) == 1
    assert await inventory.remaining(lot) == 400


async def test_an_idempotency_key_reused_with_another_body_is_a_409(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    oil = uuid.uuid4()
    lot = await inventory.stock(oil, 500)
    keyed = {**headers, "Idempotency-Key": "reused"}
    await client.post(START, headers=keyed, json={"plan_snapshot": plan((oil, 100))})

    response = await client.post(START, headers=keyed, json={"plan_snapshot": plan((oil, 200))})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await inventory.handled(BatchStarted) == 1
    assert await inventory.remaining(lot) == 400


async def test_concurrent_starts_get_consecutive_codes_none_shared(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    oil = uuid.uuid4()
    lot = await inventory.stock(oil, 10_000)
    body = {"plan_snapshot": plan((oil, 10), label_prefix="lav")}

    responses = await asyncio.gather(*(client.post(START, headers=headers, json=body)
                                       for _ in range(20)))

    assert {r.status_code for r in responses} == {201}
    assert sorted(r.json()["code"] for r in responses) == [
        f"LAV-{today()}-{n:02d}" for n in range(1, 21)]
    assert await inventory.remaining(lot) == 10_000 - 20 * 10


async def test_codes_come_from_the_label_prefix_else_the_recipe_initials_else_batch(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    oil = uuid.uuid4()
    await inventory.stock(oil, 10_000)
    codes = []
    for extra in ({"label_prefix": "lav-2"}, {"recipe_name": "Lavender oat soap"},
                  {"recipe_name": None}, {"recipe_name": "Lavender oat soap"}):
        response = await client.post(START, headers=headers,
                                     json={"plan_snapshot": plan((oil, 1), **extra)})
        codes.append(response.json()["code"])

    assert codes == [f"LAV2-{today()}-01", f"LOS-{today()}-01", f"BATCH-{today()}-01",
                     f"LOS-{today()}-02"]


async def test_bad_input_is_a_422_and_stores_nothing(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    oil = uuid.uuid4()
    bad = [
        {},
        {"plan_snapshot": plan()},
        {"plan_snapshot": plan((oil, -1))},
        {"plan_snapshot": plan((oil, "0.000000001"))},
        {"plan_snapshot": plan((oil, 1), containers=((oil, 1.5),))},  # type: ignore[arg-type]
        {"plan_snapshot": {**plan((oil, 1)), "recipe_id": "12"}},
        {"plan_snapshot": plan((oil, 1)), "unexpected": True},
    ]

    responses = [await client.post(START, headers=headers, json=body) for body in bad]

    assert [r.status_code for r in responses] == [422] * len(bad)
    assert {r.json()["error"]["code"] for r in responses} == {"VALIDATION_ERROR"}
    assert "plan_snapshot.ingredients_plan" in responses[1].json()["error"]["details"]["fields"]
    async with app.state.db.sessionmaker() as session:
        assert await session.scalar(
            sa.select(sa.func.count()).select_from(Batch).where(Batch.org_id == org)) == 0
        assert await session.scalar(sa.select(sa.func.count()).select_from(outbox).where(
            outbox.c.org_id == str(org))) == 0
    assert await inventory.handled(BatchStarted) == 0


async def test_a_viewer_cannot_start_a_batch_but_can_list_them(
    client: httpx.AsyncClient, mint_token: Callable[..., str], org: uuid.UUID,
    inventory: Stockroom,
) -> None:
    viewer = {"Authorization": f"Bearer {mint_token(org_id=org, role='viewer')}"}

    refused = await client.post(START, headers=viewer,
                                json={"plan_snapshot": plan((uuid.uuid4(), 1))})
    listed = await client.get(API, headers=viewer)

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "INSUFFICIENT_PERMISSIONS"
    assert listed.status_code == 200
    assert await inventory.handled(BatchStarted) == 0


async def test_another_organizations_batch_is_a_404_everywhere(
    client: httpx.AsyncClient, headers: dict[str, str], mint_token: Callable[..., str],
    inventory: Stockroom,
) -> None:
    oil = uuid.uuid4()
    await inventory.stock(oil, 500)
    batch = (await client.post(START, headers=headers,
                               json={"plan_snapshot": plan((oil, 1))})).json()
    other = {"Authorization": f"Bearer {mint_token(org_id=uuid.uuid4(), role='owner')}"}
    path = f"{API}/{batch['id']}"

    answers = [
        await client.get(path, headers=other),
        await client.get(f"{path}/inventory-summary", headers=other),
        await client.get(f"{path}/containers", headers=other),
        await client.post(f"{path}/finish", headers=other,
                          json={"products": [{"product_sku_id": str(oil), "quantity": 1}]}),
        await client.post(f"{path}/cancel", headers=other),
        await client.post(f"{path}/containers", headers=other, json={
            "container_id": str(oil), "quantity": 1, "reason": "broken"}),
        await client.post(f"{path}/split", headers=other, json={"variants": [
            {"output_item_id": str(oil), "quantity": 1, "unit": "bars"}]}),
    ]

    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [
        (404, "RESOURCE_NOT_FOUND")] * len(answers)
    assert (await client.get(API, headers=other)).json()["total"] == 0
    assert (await client.get(path, headers=headers)).json()["status"] == "in_progress"
