"""Inventory counts: a sheet of lots, counted quantities, and on completion recount movements
and a variance report; completed counts never change again."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from inventory.catalog.service import default_location
from inventory.models import Location, Lot, Movement
from inventory.stock import ledger
from inventory.stock.items import get_item
from servicekit.db import EventContext, utcnow

ITEMS = "/api/v1/inventory/items"
COUNTS = "/api/v1/inventory/counts"


async def ingredient(client: httpx.AsyncClient, headers: dict[str, str], name: str) -> str:
    response = await client.post(ITEMS, headers=headers, json={
        "name": name, "type": "ingredient", "default_unit": "g"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def restock(app: FastAPI, org: uuid.UUID, item_id: str, quantity: str, unit_cost: str,
                  *, days_ago: int = 0, location: str | None = None) -> uuid.UUID:
    async with app.state.db.unit_of_work(EventContext(org_id=org)) as uow:
        item = await get_item(uow.session, org, uuid.UUID(item_id))
        place = await default_location(uow, org) if location is None else await uow.session.scalar(
            sa.select(Location).where(Location.org_id == org, Location.name == location))
        if place is None:
            place = Location(org_id=org, name=location, kind="warehouse")
            uow.session.add(place)
            await uow.session.flush()
        lot, _ = ledger.receive(uow, org, item, Decimal(quantity),
                                unit_cost=Decimal(unit_cost), location_id=place.id,
                                provenance=ledger.Provenance(actor="test"),
                                received_at=utcnow() - timedelta(days=days_ago))
        await uow.commit()
        return lot.id


async def remaining(app: FastAPI, *lot_ids: uuid.UUID) -> list[Decimal]:
    async with app.state.db.sessionmaker() as session:
        found = dict((await session.execute(sa.select(Lot.id, Lot.quantity_remaining).where(
            Lot.id.in_(lot_ids)))).all())
    return [found[lot_id] for lot_id in lot_ids]


async def recounts(app: FastAPI, org: uuid.UUID) -> list[tuple[uuid.UUID, Decimal, Any]]:
    async with app.state.db.sessionmaker() as session:
        rows = await session.execute(
            sa.select(Movement.lot_id, Movement.quantity, Movement.count_id)
            .where(Movement.org_id == org, Movement.kind == "recount").order_by(Movement.id))
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


async def test_completing_a_count_recounts_the_lots_that_differ_and_reports_the_variance(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil, lye = await ingredient(client, headers, "Olive oil"), await ingredient(
        client, headers, "Lye")
    older = await restock(app, org, oil, "1000", "0.01", days_ago=2)
    newer = await restock(app, org, oil, "500", "0.02", days_ago=1)
    lye_lot = await restock(app, org, lye, "300", "0.05")
    count = await ok(await client.post(COUNTS, headers=headers, json={
        "name": "January shelf count", "item_ids": [oil, lye]}), 201)
    assert (count["status"], count["lots"], count["lots_counted"]) == ("open", 3, 0)

    await ok(await client.put(f"{COUNTS}/{count['id']}/lines", headers=headers, json={
        "lines": [{"lot_id": str(older), "counted_quantity": 950},
                  {"lot_id": str(newer), "counted_quantity": 0.5, "unit": "kg"},
                  {"lot_id": str(lye_lot), "counted_quantity": 310}]}))
    report = await ok(await client.post(f"{COUNTS}/{count['id']}/complete", headers=headers))

    assert report["status"] == "completed" and report["completed_at"] is not None
    items = {i["item_name"]: i for i in report["items"]}
    assert {k: items["Olive oil"][k] for k in ("expected_quantity", "counted_quantity",
                                               "variance", "variance_value", "unit")} == {
        "expected_quantity": 1500, "counted_quantity": 1450, "variance": -50,
        "variance_value": -0.5, "unit": "g"}
    assert [(lot["expected_quantity"], lot["counted_quantity"], lot["variance"])
            for lot in items["Olive oil"]["lots"]] == [(1000, 950, -50), (500, 500, 0)]
    assert (items["Lye"]["variance"], items["Lye"]["variance_value"]) == (10, 0.5)
    assert report["totals"] == {
        "lots": 3, "lots_counted": 3, "lots_with_variance": 2, "expected_value": 35,
        "counted_value": 35, "variance_value": 0, "shrinkage_value": -0.5,
        "surplus_value": 0.5}
    assert await recounts(app, org) == [(lye_lot, 10, uuid.UUID(count["id"])),
                                        (older, -50, uuid.UUID(count["id"]))]
    assert await remaining(app, older, newer, lye_lot) == [950, 500, 310]
    assert await ok(await client.get(f"{COUNTS}/{count['id']}", headers=headers)) == report


async def test_a_completed_count_can_no_longer_change(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil = await ingredient(client, headers, "Olive oil")
    lot = await restock(app, org, oil, "100", "0.01")
    count = await ok(await client.post(COUNTS, headers=headers, json={
        "name": "Count", "item_ids": [oil]}), 201)
    line = {"lines": [{"lot_id": str(lot), "counted_quantity": 90}]}
    await ok(await client.put(f"{COUNTS}/{count['id']}/lines", headers=headers, json=line))
    await ok(await client.post(f"{COUNTS}/{count['id']}/complete", headers=headers))

    for response in (
        await client.put(f"{COUNTS}/{count['id']}/lines", headers=headers, json=line),
        await client.post(f"{COUNTS}/{count['id']}/complete", headers=headers),
        await client.post(f"{COUNTS}/{count['id']}/cancel", headers=headers),
    ):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "COUNT_CLOSED"
    assert await recounts(app, org) == [(lot, -10, uuid.UUID(count["id"]))]
    assert await remaining(app, lot) == [90]


async def test_an_item_counted_as_a_whole_is_spread_over_its_lots_oldest_first(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil = await ingredient(client, headers, "Olive oil")
    older = await restock(app, org, oil, "1000", "0.01", days_ago=2)
    newer = await restock(app, org, oil, "500", "0.02", days_ago=1)

    count = await ok(await client.post(COUNTS, headers=headers, json={  # seed 001's shape
        "count_date": "2026-01-28",
        "items": [{"ingredient_id": oil, "quantity": 1.2, "unit": "kg"}]}), 201)

    assert count["name"] == "Count 2026-01-28"
    [item] = count["items"]
    assert [lot["counted_quantity"] for lot in item["lots"]] == [700, 500]
    await ok(await client.post(f"{COUNTS}/{count['id']}/complete", headers=headers))
    assert await remaining(app, older, newer) == [700, 500]


async def test_stock_used_while_a_count_is_open_is_not_undone_by_completing_it(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil = await ingredient(client, headers, "Olive oil")
    lot = await restock(app, org, oil, "100", "0.01")
    count = await ok(await client.post(COUNTS, headers=headers, json={
        "name": "Count", "item_ids": [oil]}), 201)
    await ok(await client.put(f"{COUNTS}/{count['id']}/lines", headers=headers, json={
        "lines": [{"lot_id": str(lot), "counted_quantity": 95}]}))
    async with app.state.db.unit_of_work(EventContext(org_id=org)) as uow:  # a batch uses 10
        item = await get_item(uow.session, org, uuid.UUID(oil))
        await ledger.consume(uow, org, item, Decimal(10), kind="batch_consumption",
                             provenance=ledger.Provenance(actor="test"))
        await uow.commit()

    report = await ok(await client.post(f"{COUNTS}/{count['id']}/complete", headers=headers))

    assert report["items"][0]["variance"] == -5
    assert await remaining(app, lot) == [85]


async def test_a_count_at_a_location_lists_only_the_lots_there(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil = await ingredient(client, headers, "Olive oil")
    await restock(app, org, oil, "100", "0.01")
    there = await restock(app, org, oil, "40", "0.01", location="Warehouse")
    elsewhere = await restock(app, org, oil, "60", "0.01")
    async with app.state.db.sessionmaker() as session:
        warehouse = await session.scalar(sa.select(Location.id).where(
            Location.org_id == org, Location.name == "Warehouse"))

    count = await ok(await client.post(COUNTS, headers=headers, json={
        "name": "Warehouse", "location_id": str(warehouse)}), 201)

    assert [lot["lot_id"] for lot in count["items"][0]["lots"]] == [str(there)]
    response = await client.put(f"{COUNTS}/{count['id']}/lines", headers=headers, json={
        "lines": [{"lot_id": str(elsewhere), "counted_quantity": 1}]})
    assert response.status_code == 422


async def test_counts_are_listed_by_status_and_a_cancelled_one_moves_nothing(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil = await ingredient(client, headers, "Olive oil")
    lot = await restock(app, org, oil, "100", "0.01")
    await ok(await client.post(COUNTS, headers=headers, json={"name": "Kept"}), 201)
    dropped = await ok(await client.post(COUNTS, headers=headers, json={"name": "Dropped"}),
                       201)
    await client.put(f"{COUNTS}/{dropped['id']}/lines", headers=headers, json={
        "lines": [{"lot_id": str(lot), "counted_quantity": 1}]})

    cancelled = await ok(await client.post(f"{COUNTS}/{dropped['id']}/cancel",
                                           headers=headers))

    assert cancelled["status"] == "cancelled"
    assert await remaining(app, lot) == [100]
    page = await ok(await client.get(COUNTS, headers=headers, params={"status": "open"}))
    assert [(c["name"], c["lots"]) for c in page["items"]] == [("Kept", 1)]
    page = await ok(await client.get(COUNTS, headers=headers))
    assert page["total"] == 2


async def test_another_organizations_counts_and_lots_are_not_found(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    mint_token: Callable[..., str],
) -> None:
    oil = await ingredient(client, headers, "Olive oil")
    lot = await restock(app, org, oil, "100", "0.01")
    count = await ok(await client.post(COUNTS, headers=headers, json={"name": "Mine"}), 201)
    stranger = {"Authorization": f"Bearer {mint_token(org_id=uuid.uuid4())}"}
    theirs = await ok(await client.post(COUNTS, headers=stranger, json={"name": "Theirs"}), 201)

    assert (await client.get(f"{COUNTS}/{count['id']}", headers=stranger)).status_code == 404
    for action in ("complete", "cancel"):
        assert (await client.post(f"{COUNTS}/{count['id']}/{action}",
                                  headers=stranger)).status_code == 404
    response = await client.put(f"{COUNTS}/{theirs['id']}/lines", headers=stranger, json={
        "lines": [{"lot_id": str(lot), "counted_quantity": 1}]})
    assert response.status_code == 404
    assert (await client.post(COUNTS, headers=stranger, json={
        "name": "Sneaky", "item_ids": [oil]})).status_code == 404
    assert await remaining(app, lot) == [100]


async def test_bad_counted_quantities_are_refused(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil = await ingredient(client, headers, "Olive oil")
    lot = await restock(app, org, oil, "100", "0.01")
    count = await ok(await client.post(COUNTS, headers=headers, json={"name": "Count"}), 201)

    for line in ({"counted_quantity": -1}, {"counted_quantity": "lots"},
                 {"counted_quantity": 1, "unit": "parsecs"}, {"counted_quantity": 1, "x": 1}):
        response = await client.put(f"{COUNTS}/{count['id']}/lines", headers=headers,
                                    json={"lines": [{"lot_id": str(lot), **line}]})
        assert response.status_code == 422, (line, response.text)
    assert (await client.put(f"{COUNTS}/{count['id']}/lines", headers=headers,
                             json={})).status_code == 422
    current = await ok(await client.get(f"{COUNTS}/{count['id']}", headers=headers))
    assert current["lots_counted"] == 0
