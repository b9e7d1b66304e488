"""POST /api/v1/inventory/adjustments: every type, in any convertible unit, all or nothing,
idempotent under an Idempotency-Key."""

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from inventory.models import IdempotentRequest, Lot, Movement
from inventory.testing import make_item
from inventory.testing import restock_by_adjustment as restock
from servicekit.messaging.tables import outbox

URL = "/api/v1/inventory/adjustments"


def auth(mint_token: Callable[..., str], org_id: uuid.UUID, role: str = "owner") -> dict:
    return {"Authorization": f"Bearer {mint_token(org_id=org_id, role=role)}"}



async def adjust(client: httpx.AsyncClient, headers: dict, *lines: dict,
                 **extra: Any) -> httpx.Response:
    return await client.post(URL, json={"adjustments": list(lines), **extra}, headers=headers)



async def books(app: FastAPI, org_id: uuid.UUID) -> tuple:
    """Everything an adjustment could change, to show that a refused one changed nothing."""
    async with app.state.db.sessionmaker() as session:
        lots = (await session.execute(sa.select(Lot.id, Lot.quantity_remaining)
                                      .where(Lot.org_id == org_id).order_by(Lot.id))).all()
        movements = await session.scalar(sa.select(sa.func.count()).select_from(Movement)
                                         .where(Movement.org_id == org_id))
        events = await session.scalar(sa.select(sa.func.count()).select_from(outbox)
                                      .where(outbox.c.org_id == str(org_id)))
        keys = await session.scalar(sa.select(sa.func.count()).select_from(IdempotentRequest)
                                    .where(IdempotentRequest.org_id == org_id))
    return tuple(lots), movements, events, keys


async def events(app: FastAPI, org_id: uuid.UUID, routing_key: str) -> list[dict]:
    async with app.state.db.sessionmaker() as session:
        bodies = await session.scalars(
            sa.select(outbox.c.body).where(outbox.c.org_id == str(org_id),
                                           outbox.c.routing_key == routing_key)
            .order_by(outbox.c.id))
        return [json.loads(body)["data"] for body in bodies]


async def test_a_restock_creates_a_lot_and_reports_its_cost_as_in_seed_000(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    item = await make_item(app, org, name="Coconut oil", shelf_life_days=365)
    response = await adjust(client, auth(mint_token, org), {
        "inventory_id": str(item), "adjustment_type": "restock", "quantity": 100.0,
        "cost_per_unit": 0.16, "expiration_date": "2027-12-31",
        "reason": "New shipment received"}, notes="Monthly restock order #12345")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Inventory adjustments processed"
    assert body["data"]["adjustments_processed"] == 1
    assert body["data"]["total_cost_change"] == 16
    [movement] = body["data"]["movements"]
    assert (movement["kind"], movement["quantity"], movement["unit"], movement["cost"]) == (
        "restock", 100, "g", 16)
    assert movement["reason"] == "New shipment received"

    lots = (await client.get(f"/api/v1/inventory/items/{item}/lots",
                             headers=auth(mint_token, org))).json()["lots"]
    assert len(lots) == 1
    assert lots[0]["expires_at"].startswith("2027-12-31T00:00:00")
    assert lots[0]["location"]["name"] == "Workshop"
    assert lots[0]["lot_number"].startswith("L-")


async def test_a_restock_without_an_expiry_takes_it_from_the_items_shelf_life(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    item = await make_item(app, org, shelf_life_days=30)
    await restock(client, auth(mint_token, org), item, 5, lot_number="SHEA-7")
    lot = (await client.get(f"/api/v1/inventory/items/{item}/lots",
                            headers=auth(mint_token, org))).json()["lots"][0]
    received = datetime.fromisoformat(lot["received_at"])
    assert datetime.fromisoformat(lot["expires_at"]) - received == timedelta(days=30)
    assert lot["lot_number"] == "SHEA-7"


async def test_a_restock_in_another_unit_is_kept_in_the_items_unit_at_the_same_total_cost(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    item = await make_item(app, org, density_g_per_ml=Decimal("0.91"))
    movement = await restock(client, auth(mint_token, org), item, 2, cost=7.5, unit="l")
    assert (movement["quantity"], movement["unit"], movement["cost"]) == (1820, "g", 15)
    assert movement["unit_cost"] == pytest.approx(15 / 1820, abs=1e-8)


async def test_spoil_trash_and_sale_take_fifo_and_total_cost_change_is_the_signed_sum(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    item = await make_item(app, org, default_unit="count", type="product", sku="BAR-1")
    first = await restock(client, headers, item, 10, cost=2)
    second = await restock(client, headers, item, 10, cost=3)
    response = await adjust(
        client, headers,
        {"item_id": str(item), "adjustment_type": "sale", "quantity": 4},
        {"item_id": str(item), "adjustment_type": "spoil", "quantity": 8, "reason": "cracked"},
        {"item_id": str(item), "adjustment_type": "trash", "quantity": 1,
         "lot_id": second["lot_id"]},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["adjustments_processed"] == 3
    assert [(m["kind"], m["lot_id"], m["quantity"], m["cost"]) for m in data["movements"]] == [
        ("sale", first["lot_id"], -4, -8),
        ("spoil", first["lot_id"], -6, -12),
        ("spoil", second["lot_id"], -2, -6),
        ("trash", second["lot_id"], -1, -3),
    ]
    assert data["total_cost_change"] == -29
    remaining = {lot["id"]: lot["quantity_remaining"] for lot in (await client.get(
        f"/api/v1/inventory/items/{item}/lots", headers=headers)).json()["lots"]}
    assert remaining == {second["lot_id"]: 7}


async def test_a_recount_sets_the_lot_to_what_was_counted_and_records_the_variance(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    item = await make_item(app, org)
    lot_id = (await restock(client, headers, item, 1000, cost="0.02"))["lot_id"]
    response = await adjust(client, headers, {
        "item_id": str(item), "adjustment_type": "recount", "quantity": 0.95, "unit": "kg",
        "lot_id": lot_id})
    [movement] = response.json()["data"]["movements"]
    assert (movement["kind"], movement["quantity"], movement["cost"]) == ("recount", -50, -1)
    response = await adjust(client, headers, {
        "item_id": str(item), "adjustment_type": "recount", "quantity": 0, "lot_id": lot_id})
    assert response.json()["data"]["movements"][0]["quantity"] == -950
    lot = (await client.get(f"/api/v1/inventory/lots/{lot_id}", headers=headers)).json()
    assert lot["quantity_remaining"] == 0


async def test_a_sale_return_goes_back_to_its_lot_or_into_a_new_one(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    item = await make_item(app, org, default_unit="count", type="product")
    lot_id = (await restock(client, headers, item, 5, cost=4))["lot_id"]
    await adjust(client, headers, {"item_id": str(item), "adjustment_type": "sale",
                                   "quantity": 3})
    response = await adjust(
        client, headers,
        {"item_id": str(item), "adjustment_type": "sale_return", "quantity": 1,
         "lot_id": lot_id},
        {"item_id": str(item), "adjustment_type": "sale_return", "quantity": 1},
    )
    first, second = response.json()["data"]["movements"]
    assert (first["lot_id"], first["quantity"], first["cost"]) == (lot_id, 1, 4)
    assert second["lot_id"] != lot_id and second["unit_cost"] == 4  # the latest cost
    assert response.json()["data"]["total_cost_change"] == 8


async def test_a_sale_beyond_the_usable_stock_is_refused_with_the_expired_lots_named(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    item = await make_item(app, org)
    expired = await restock(client, headers, item, 100, expiration_date="2020-01-01")
    await restock(client, headers, item, 10)
    before = await books(app, org)
    response = await adjust(client, headers, {"item_id": str(item), "adjustment_type": "sale",
                                              "quantity": 50})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "STOCK_INSUFFICIENT"
    assert (error["details"]["needed"], error["details"]["available"]) == (50, 10)
    assert error["details"]["skipped_lots"] == [{
        "lot_id": expired["lot_id"], "lot_number": expired["lot_number"], "reason": "expired",
        "quantity": 100}]
    assert error["details"]["line"] == "adjustments.0"
    assert await books(app, org) == before
    # Expired stock is written off by naming its lot.
    response = await adjust(client, headers, {"item_id": str(item), "adjustment_type": "trash",
                                              "quantity": 100, "lot_id": expired["lot_id"]})
    assert response.status_code == 200


async def test_one_bad_line_applies_nothing_of_the_whole_request(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    item = await make_item(app, org)
    await restock(client, headers, item, 10)
    before = await books(app, org)
    response = await adjust(
        client, headers,
        {"item_id": str(item), "adjustment_type": "restock", "quantity": 5},
        {"item_id": str(item), "adjustment_type": "spoil", "quantity": 3},
        {"item_id": str(item), "adjustment_type": "sale", "quantity": 13},
    )
    assert response.status_code == 409
    assert response.json()["error"]["details"]["line"] == "adjustments.2"
    assert await books(app, org) == before


@pytest.mark.parametrize(("line", "status", "code"), [
    ({"quantity": -5}, 422, "VALIDATION_ERROR"),
    ({"quantity": 0}, 422, "VALIDATION_ERROR"),
    ({"quantity": "ten"}, 422, "VALIDATION_ERROR"),
    ({"quantity": 1e300}, 422, "VALIDATION_ERROR"),
    ({"quantity": "NaN"}, 422, "VALIDATION_ERROR"),
    ({"quantity": 1e12, "unit": "kg"}, 422, "QUANTITY_OUT_OF_RANGE"),
    ({"quantity": 1e-12}, 422, "QUANTITY_OUT_OF_RANGE"),
    ({"cost_per_unit": -1}, 422, "VALIDATION_ERROR"),
    ({"cost_per_unit": 1e20}, 422, "VALIDATION_ERROR"),
    ({"unit": "furlong"}, 422, "UNKNOWN_UNIT"),
    ({"unit": "count"}, 422, "INCOMPATIBLE_UNITS"),
    ({"unit": "ml"}, 422, "DENSITY_REQUIRED"),
    ({"expiration_date": "2025-02-30"}, 422, "VALIDATION_ERROR"),
    ({"expiration_date": "next tuesday"}, 422, "VALIDATION_ERROR"),
    ({"adjustment_type": "steal"}, 422, "VALIDATION_ERROR"),
    ({"adjustment_type": "recount"}, 422, "VALIDATION_ERROR"),  # no lot_id
    ({"item_id": None}, 422, "VALIDATION_ERROR"),
    ({"colour": "red"}, 422, "VALIDATION_ERROR"),
    ({"item_id": "UNKNOWN"}, 404, "RESOURCE_NOT_FOUND"),
    ({"item_id": "OTHER_ORG"}, 404, "RESOURCE_NOT_FOUND"),
    ({"location_id": "UNKNOWN"}, 404, "RESOURCE_NOT_FOUND"),
    ({"supplier_id": "UNKNOWN"}, 404, "RESOURCE_NOT_FOUND"),
    ({"adjustment_type": "spoil", "lot_id": "UNKNOWN"}, 404, "RESOURCE_NOT_FOUND"),
    ({"adjustment_type": "recount", "lot_id": "OTHER_ITEM"}, 422, "VALIDATION_ERROR"),
    ({"adjustment_type": "spoil", "quantity": 12}, 409, "STOCK_INSUFFICIENT"),
])
async def test_bad_input_gets_a_clear_4xx_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
    line: dict, status: int, code: str,
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    item = await make_item(app, org)
    other_item = await make_item(app, org)
    other_lot = (await restock(client, headers, other_item, 1))["lot_id"]
    await restock(client, headers, item, 10)
    replacements = {"UNKNOWN": str(uuid.uuid4()), "OTHER_ITEM": other_lot,
                    "OTHER_ORG": str(await make_item(app, uuid.uuid4()))}
    line = {key: replacements.get(value, value) if isinstance(value, str) else value
            for key, value in line.items()}
    good = {"item_id": str(item), "adjustment_type": "restock", "quantity": 1}
    before = await books(app, org)
    response = await adjust(client, headers, good, {**good, **line},
                            notes="a good line, then a bad one")
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert await books(app, org) == before


async def test_a_viewer_cannot_adjust(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    item = await make_item(app, org)
    response = await adjust(client, auth(mint_token, org, "viewer"), {
        "item_id": str(item), "adjustment_type": "restock", "quantity": 1})
    assert response.status_code == 403


async def test_the_same_idempotency_key_and_body_get_the_first_answer_without_a_second_effect(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = {**auth(mint_token, org), "Idempotency-Key": "restock-2026-06-01"}
    item = await make_item(app, org)
    body = {"adjustments": [{"item_id": str(item), "adjustment_type": "restock",
                             "quantity": 12.5, "cost_per_unit": 2}], "notes": "order 9"}
    first = await client.post(URL, json=body, headers=headers)
    after_first = await books(app, org)
    # The same request again, with numbers written differently and keys in another order.
    same = {"notes": "order 9", "adjustments": [{"cost_per_unit": 2.0, "quantity": "12.50",
                                                 "adjustment_type": "restock",
                                                 "item_id": str(item)}]}
    second = await client.post(URL, json=same, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == first.json()
    assert await books(app, org) == after_first

    other = {**body, "notes": "order 10"}
    reused = await client.post(URL, json=other, headers=headers)
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await books(app, org) == after_first

    # Keys belong to an organization: another one may use the same key for itself.
    other_org = uuid.uuid4()
    other_item = await make_item(app, other_org)
    body["adjustments"][0]["item_id"] = str(other_item)
    response = await client.post(URL, json=body, headers={
        **auth(mint_token, other_org), "Idempotency-Key": "restock-2026-06-01"})
    assert response.status_code == 200


async def test_a_refused_request_does_not_use_up_its_idempotency_key(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = {**auth(mint_token, org), "Idempotency-Key": "sale-1"}
    item = await make_item(app, org)
    body = {"adjustments": [{"item_id": str(item), "adjustment_type": "sale", "quantity": 2}]}
    assert (await client.post(URL, json=body, headers=headers)).status_code == 409
    await restock(client, auth(mint_token, org), item, 5)
    assert (await client.post(URL, json=body, headers=headers)).status_code == 200


async def test_a_products_level_change_and_a_fall_below_its_threshold_are_published(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    soap = await make_item(app, org, type="product", default_unit="count", sku="LAV-4OZ",
                           low_stock_threshold=Decimal(5))
    oil = await make_item(app, org, low_stock_threshold=Decimal(100))
    await restock(client, headers, soap, 8)
    await restock(client, headers, oil, 500)
    await adjust(client, headers, {"item_id": str(soap), "adjustment_type": "sale",
                                   "quantity": 3},
                 {"item_id": str(oil), "adjustment_type": "spoil", "quantity": 450})
    await adjust(client, headers, {"item_id": str(soap), "adjustment_type": "sale",
                                   "quantity": 1})

    levels = await events(app, org, "inventory.StockLevelChanged.v1")
    assert [(e["item_id"], e["on_hand"], e["available"], e["cause"]) for e in levels] == [
        (str(soap), "8", "8", "adjustment"), (str(soap), "5", "5", "adjustment"),
        (str(soap), "4", "4", "adjustment")]
    assert levels[0]["sku"] == "LAV-4OZ"
    low = await events(app, org, "inventory.LowStockDetected.v1")
    assert sorted((e["item_id"], e["available"], e["threshold"]) for e in low) == sorted([
        (str(soap), "5", "5"), (str(oil), "50", "100")])


async def test_expired_stock_is_not_available_and_an_expiry_date_means_the_start_of_that_day(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    item = await make_item(app, org)
    today = datetime.now(UTC).date()
    await restock(client, headers, item, 3, expiration_date=today.isoformat())
    await restock(client, headers, item, 4,
                  expiration_date=(today + timedelta(days=1)).isoformat())
    lots = (await client.get(f"/api/v1/inventory/items/{item}/lots", headers=headers)).json()
    assert [lot["expired"] for lot in lots["lots"]] == [True, False]
    assert (lots["total_on_hand"], lots["total_available"]) == (7, 4)


async def test_concurrent_requests_under_one_idempotency_key_take_effect_once(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = {**auth(mint_token, org), "Idempotency-Key": "double-click"}
    item = await make_item(app, org)
    await restock(client, auth(mint_token, org), item, 100)
    body = {"adjustments": [{"item_id": str(item), "adjustment_type": "spoil", "quantity": 30}]}
    responses = await asyncio.gather(*(client.post(URL, json=body, headers=headers)
                                       for _ in range(8)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1
    lots, movements, _, keys = await books(app, org)
    assert [quantity for _, quantity in lots] == [70]
    assert (movements, keys) == (2, 1)
