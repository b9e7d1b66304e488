"""Reading batches: the list with seed 000's filters, and a batch's containers."""

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from batches.models import Batch
from batches.testing import START, plan
from inventory.testing import Stockroom

API = "/api/v1/batches"


async def test_batches_are_listed_newest_first_with_filters_and_the_fleets_page_shape(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    oil = uuid.uuid4()
    await inventory.stock(oil, 1000)
    lavender, oat = str(uuid.uuid4()), str(uuid.uuid4())
    started = []
    for recipe, name, quantity in ((lavender, "Lavender", 10), (oat, "Oat", 10),
                                   (lavender, "Lavender", 5000)):
        response = await client.post(START, headers=headers, json={"plan_snapshot": plan(
            (oil, quantity), recipe_id=recipe, recipe_name=name)})
        started.append(response.json().get("id") or response.json()["error"]["details"][
            "batch_id"])
    async with app.state.db.sessionmaker() as session:  # the first one was started last week
        await session.execute(sa.update(Batch).where(Batch.id == uuid.UUID(started[0]))
                              .values(created_at=datetime.now(UTC) - timedelta(days=7)))
        await session.commit()
    today = date.today().isoformat()

    async def ids(**params: object) -> list[str]:
        response = await client.get(API, headers=headers, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    everything = (await client.get(API, headers=headers, params={"per_page": 2})).json()
    assert {k: v for k, v in everything.items() if k != "items"} == {
        "total": 3, "page": 1, "per_page": 2, "pages": 2, "has_next": True, "has_prev": False}
    assert [i["id"] for i in everything["items"]] == [started[2], started[1]]
    assert await ids(status="failed") == [started[2]]
    assert await ids(status="in_progress,failed") == [started[2], started[1], started[0]]
    assert await ids(status="in_progress") == [started[1], started[0]]
    assert await ids(recipe_id=lavender) == [started[2], started[0]]
    assert await ids(date_from=today) == [started[2], started[1]]
    assert await ids(date_to=(date.today() - timedelta(days=1)).isoformat()) == [started[0]]
    assert await ids(search="oat") == [started[1]]
    assert await ids(search="O-") == [started[1]]
    refused = await client.get(API, headers=headers, params={"status": "planned"})
    assert refused.status_code == 422


async def test_a_batchs_containers_show_the_lots_taken_and_the_adjustments_recorded(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    oil, jar, lid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await inventory.stock(oil, 1000)
    jar_lot = await inventory.stock(jar, 12, "0.5", unit="count")
    batch = (await client.post(START, headers=headers, json={"plan_snapshot": plan(
        (oil, 100), containers=((jar, 10),))})).json()
    path = f"{API}/{batch['id']}/containers"

    broken = await client.post(path, headers=headers, json={
        "container_id": str(jar), "quantity": 2, "reason": "broken", "notes": "cracked"})
    unused = await client.post(path, headers=headers, json={
        "container_id": str(jar), "quantity": 1, "reason": "unused"})
    extra = await client.post(path, headers=headers, json={
        "container_id": str(lid), "quantity": 3, "reason": "extra_used"})
    stranger = await client.post(path, headers=headers, json={
        "container_id": str(uuid.uuid4()), "quantity": 1, "reason": "broken"})

    assert [r.status_code for r in (broken, unused, extra, stranger)] == [201, 201, 201, 422]
    assert broken.json()["notes"] == "cracked"
    listed = (await client.get(path, headers=headers)).json()
    jars, lids = listed["containers"]
    assert (jars["container_id"], jars["planned_quantity"], jars["deducted_quantity"],
            jars["cost"], jars["quantity_used"]) == (str(jar), 10, 10, 5, 11)
    assert [(lot["lot_id"], lot["quantity"]) for lot in jars["lots"]] == [(str(jar_lot), 10)]
    assert [a["reason"] for a in jars["adjustments"]] == ["broken", "unused"]
    assert (lids["container_id"], lids["quantity_used"], lids["cost"]) == (str(lid), 3, 0)
    assert listed["total_cost"] == 5
    assert await inventory.remaining(jar_lot) == 2  # adjustments move no stock


async def test_containers_cannot_be_adjusted_on_a_batch_that_never_ran(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    jar = uuid.uuid4()
    failed = (await client.post(START, headers=headers, json={"plan_snapshot": plan(
        (uuid.uuid4(), 1), containers=((jar, 1),))})).json()["error"]["details"]

    response = await client.post(f"{API}/{failed['batch_id']}/containers", headers=headers,
                                 json={"container_id": str(jar), "quantity": 1,
                                       "reason": "broken"})

    assert response.status_code == 409
