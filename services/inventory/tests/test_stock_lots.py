"""Lots, moves, the movement ledger, purchase bills, stock checks and valuation."""

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from inventory.models import Location, Lot, Movement, Supplier
from inventory.testing import make_item
from inventory.testing import restock_by_adjustment as restock

API = "/api/v1/inventory"


def auth(mint_token: Callable[..., str], org_id: uuid.UUID, role: str = "owner") -> dict:
    return {"Authorization": f"Bearer {mint_token(org_id=org_id, role=role)}"}


async def make(app: FastAPI, model: type, org_id: uuid.UUID, **values: Any) -> uuid.UUID:
    async with app.state.db.sessionmaker() as session:
        row = model(id=uuid.uuid4(), org_id=org_id, **values)
        session.add(row)
        await session.commit()
    return row.id




async def lot_rows(app: FastAPI, org_id: uuid.UUID) -> list[tuple]:
    async with app.state.db.sessionmaker() as session:
        return [tuple(row) for row in await session.execute(
            sa.select(Lot.id, Lot.quantity_remaining).where(Lot.org_id == org_id)
            .order_by(Lot.id))]


async def movement_count(app: FastAPI, org_id: uuid.UUID) -> int:
    async with app.state.db.sessionmaker() as session:
        return await session.scalar(sa.select(sa.func.count()).select_from(Movement)
                                    .where(Movement.org_id == org_id))


async def test_an_items_lots_come_in_fifo_order_with_their_totals(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    item = await make_item(app, org, name="Coconut Oil")
    first = await restock(client, headers, item, 100, cost="0.15", lot_number="LOT001",
                          expiration_date="2099-10-15")
    second = await restock(client, headers, item, "150.5", cost="0.16", lot_number="LOT002")
    spent = await restock(client, headers, item, 1)
    await client.post(f"{API}/adjustments", headers=headers, json={"adjustments": [{
        "item_id": str(item), "adjustment_type": "trash", "quantity": 1,
        "lot_id": spent["lot_id"]}]})

    body = (await client.get(f"{API}/items/{item}/lots", headers=headers)).json()
    assert (body["item_name"], body["unit"], body["consumption_order"]) == (
        "Coconut Oil", "g", "fifo")
    assert (body["total_on_hand"], body["total_available"], body["reserved"]) == (250.5, 250.5, 0)
    assert [(lot["id"], lot["lot_number"], lot["quantity_remaining"], lot["unit_cost"],
             lot["expired"]) for lot in body["lots"]] == [
        (first["lot_id"], "LOT001", 100, 0.15, False),
        (second["lot_id"], "LOT002", 150.5, 0.16, False)]
    assert body["lots"][0]["expires_at"].startswith("2099-10-15")
    with_empty = (await client.get(f"{API}/items/{item}/lots?include_empty=true",
                                   headers=headers)).json()
    assert [lot["id"] for lot in with_empty["lots"]][-1] == spent["lot_id"]


async def test_an_item_that_asks_for_fefo_lists_and_consumes_the_earliest_expiry_first(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    item = await make_item(app, org, consumption_order="fefo")
    never = await restock(client, headers, item, 10)
    late = await restock(client, headers, item, 10, expiration_date="2099-01-01")
    soon = await restock(client, headers, item, 10, expiration_date="2098-01-01")
    body = (await client.get(f"{API}/items/{item}/lots", headers=headers)).json()
    assert [lot["id"] for lot in body["lots"]] == [soon["lot_id"], late["lot_id"],
                                                   never["lot_id"]]
    response = await client.post(f"{API}/adjustments", headers=headers, json={"adjustments": [
        {"item_id": str(item), "adjustment_type": "sale", "quantity": 15}]})
    assert [(m["lot_id"], m["quantity"]) for m in response.json()["data"]["movements"]] == [
        (soon["lot_id"], -10), (late["lot_id"], -5)]


async def test_a_lot_is_found_only_in_its_own_organization(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    item = await make_item(app, org)
    lot = await restock(client, auth(mint_token, org), item, 3, cost=2)
    mine = await client.get(f"{API}/lots/{lot['lot_id']}", headers=auth(mint_token, org))
    assert mine.status_code == 200
    assert (mine.json()["quantity_remaining"], mine.json()["source"]) == (3, "restock")
    stranger = auth(mint_token, uuid.uuid4())
    for path in (f"/lots/{lot['lot_id']}", f"/items/{item}/lots",
                 f"/movements?lot_id={lot['lot_id']}"):
        response = await client.get(f"{API}{path}", headers=stranger)
        assert response.status_code == 404 or response.json()["total"] == 0, path


async def test_moving_part_of_a_lot_splits_it_keeping_its_age_cost_and_expiry(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    item = await make_item(app, org)
    source = await restock(client, headers, item, 2, cost=5, unit="kg", lot_number="B-77",
                           expiration_date="2099-01-01")
    fba = await make(app, Location, org, name="Amazon FBA", kind="fulfilment")
    response = await client.post(f"{API}/lots/move", headers=headers, json={
        "lot_id": source["lot_id"], "quantity": 0.5, "unit": "kg", "to_location_id": str(fba)})
    assert response.status_code == 200, response.text
    moved = response.json()
    assert (moved["quantity"], moved["unit"]) == (500, "g")
    assert moved["from_lot"]["quantity_remaining"] == 1500
    to_lot = moved["to_lot"]
    assert (to_lot["quantity_remaining"], to_lot["location"]["name"], to_lot["lot_number"]) == (
        500, "Amazon FBA", "B-77")
    for same in ("received_at", "expires_at", "unit_cost", "source"):
        assert to_lot[same] == moved["from_lot"][same]
    out, into = moved["movements"]
    assert (out["kind"], out["quantity"], out["related_lot_id"]) == (
        "move_out", -500, to_lot["id"])
    assert (into["kind"], into["quantity"], into["related_lot_id"], into["location_id"]) == (
        "move_in", 500, source["lot_id"], str(fba))


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"quantity": 3}, 409, "STOCK_INSUFFICIENT"),
    ({"quantity": -1}, 422, "VALIDATION_ERROR"),
    ({"unit": "ml"}, 422, "DENSITY_REQUIRED"),
    ({"to_location_id": "HERE"}, 422, "VALIDATION_ERROR"),
    ({"to_location_id": "ELSEWHERE_ORG"}, 404, "RESOURCE_NOT_FOUND"),
    ({"lot_id": "ELSEWHERE_ORG"}, 404, "RESOURCE_NOT_FOUND"),
])
async def test_a_move_that_cannot_be_made_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
    change: dict, status: int, code: str,
) -> None:
    org, elsewhere = uuid.uuid4(), uuid.uuid4()
    headers = auth(mint_token, org)
    item = await make_item(app, org)
    lot = await restock(client, headers, item, 2)
    their_item = await make_item(app, elsewhere)
    their_lot = await restock(client, auth(mint_token, elsewhere), their_item, 2)
    ids = {"HERE": lot["location_id"], "ELSEWHERE_ORG": their_lot["location_id"]}
    if change.get("lot_id"):
        ids["ELSEWHERE_ORG"] = their_lot["lot_id"]
    shed = await make(app, Location, org, name="Shed")
    body = {"lot_id": lot["lot_id"], "quantity": 1, "to_location_id": str(shed), **{
        key: ids.get(value, value) for key, value in change.items()}}
    before = (await lot_rows(app, org), await movement_count(app, org))
    response = await client.post(f"{API}/lots/move", headers=headers, json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert (await lot_rows(app, org), await movement_count(app, org)) == before


async def test_movements_are_listed_newest_first_and_filtered(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    oil, lye = await make_item(app, org), await make_item(app, org)
    oil_lot = await restock(client, headers, oil, 10)
    await restock(client, headers, lye, 10)
    await client.post(f"{API}/adjustments", headers=headers, json={"adjustments": [
        {"item_id": str(oil), "adjustment_type": "spoil", "quantity": 2}]})

    page = (await client.get(f"{API}/movements?per_page=2", headers=headers)).json()
    assert (page["total"], page["pages"], page["has_next"]) == (3, 2, True)
    assert [m["kind"] for m in page["items"]] == ["spoil", "restock"]
    by_item = (await client.get(f"{API}/movements?item_id={oil}", headers=headers)).json()
    assert [m["quantity"] for m in by_item["items"]] == [-2, 10]
    by_kind = (await client.get(f"{API}/movements?kind=spoil", headers=headers)).json()
    assert [m["lot_number"] for m in by_kind["items"]] == [oil_lot["lot_number"]]
    by_lot = (await client.get(f"{API}/movements?lot_id={oil_lot['lot_id']}",
                               headers=headers)).json()
    assert by_lot["total"] == 2
    today = oil_lot["occurred_at"][:10]
    dated = (await client.get(f"{API}/movements?date_from={today}&date_to={today}",
                              headers=headers)).json()
    assert dated["total"] == 3
    before = (await client.get(f"{API}/movements?date_to=2020-01-01", headers=headers)).json()
    assert before["total"] == 0
    for bad in ("kind=steal", "date_from=yesterday", "per_page=101", f"batch_id={oil}x"):
        response = await client.get(f"{API}/movements?{bad}", headers=headers)
        assert response.status_code == 422, bad


async def test_a_purchase_bill_receives_one_lot_per_line_and_totals_the_lines(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    supplier = await make(app, Supplier, org, name="Soap Supplies Co")
    oil = await make_item(app, org, density_g_per_ml=Decimal("0.92"))
    lye = await make_item(app, org, default_unit="kg")
    response = await client.post(f"{API}/purchase-bills", headers=headers, json={
        "supplier_id": str(supplier), "bill_number": "INV-2031", "billed_at": "2026-05-30",
        "notes": "May order",
        "lines": [
            {"item_id": str(oil), "quantity": 5, "unit": "l", "unit_cost": 8.4,
             "lot_number": "OL-5", "expires_at": "2027-05-30"},
            {"item_id": str(lye), "quantity": 2500, "unit": "g", "unit_cost": "0.004"},
        ]})
    assert response.status_code == 201, response.text
    bill = response.json()
    assert (bill["bill_number"], bill["total_cost"], bill["billed_at"][:10]) == (
        "INV-2031", 52, "2026-05-30")
    first, second = bill["lines"]
    assert (first["quantity"], first["unit"], first["line_cost"], first["lot_number"]) == (
        5, "l", 42, "OL-5")
    assert second["line_cost"] == 10

    oil_lot = (await client.get(f"{API}/lots/{first['lot_id']}", headers=headers)).json()
    assert (oil_lot["quantity_remaining"], oil_lot["unit"], oil_lot["source"]) == (
        4600, "g", "purchase")
    assert (oil_lot["supplier_id"], oil_lot["purchase_bill_id"]) == (str(supplier), bill["id"])
    lye_lot = (await client.get(f"{API}/lots/{second['lot_id']}", headers=headers)).json()
    assert (lye_lot["quantity_remaining"], lye_lot["unit_cost"]) == (2.5, 4)
    movements = (await client.get(f"{API}/movements?kind=purchase", headers=headers)).json()
    assert sorted(m["cost"] for m in movements["items"]) == [10, 42]
    assert {m["purchase_bill_id"] for m in movements["items"]} == {bill["id"]}

    assert (await client.get(f"{API}/purchase-bills/{bill['id']}",
                             headers=headers)).json() == bill
    listed = (await client.get(f"{API}/purchase-bills?supplier_id={supplier}",
                               headers=headers)).json()
    assert [b["id"] for b in listed["items"]] == [bill["id"]]
    stranger = auth(mint_token, uuid.uuid4())
    assert (await client.get(f"{API}/purchase-bills/{bill['id']}",
                             headers=stranger)).status_code == 404


@pytest.mark.parametrize("bad", [
    {"supplier_id": "UNKNOWN"},
    {"lines": []},
    {"billed_at": "2026-13-01"},
    {"lines": [{"item_id": "UNKNOWN", "quantity": 1, "unit_cost": 1}]},
    {"lines": [{"item_id": "ITEM", "quantity": 1, "unit_cost": 1},
               {"item_id": "ITEM", "quantity": 1, "unit": "ml", "unit_cost": 1}]},
    {"lines": [{"item_id": "ITEM", "quantity": 1, "unit_cost": -2}]},
    {"lines": [{"item_id": "ITEM", "quantity": 0, "unit_cost": 2}]},
])
async def test_a_purchase_bill_with_a_bad_part_is_refused_whole(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str], bad: dict,
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    item = await make_item(app, org)
    names = {"UNKNOWN": str(uuid.uuid4()), "ITEM": str(item)}

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return names.get(value, value) if isinstance(value, str) else value

    body = {"lines": [{"item_id": str(item), "quantity": 1, "unit_cost": 1}], **resolve(bad)}
    response = await client.post(f"{API}/purchase-bills", headers=headers, json=body)
    assert response.status_code in (404, 422), response.text
    assert await lot_rows(app, org) == [] and await movement_count(app, org) == 0
    listed = (await client.get(f"{API}/purchase-bills", headers=headers)).json()
    assert listed["total"] == 0


async def test_a_stock_check_answers_in_the_requested_unit_net_of_expired_stock(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    oil = await make_item(app, org, name="Olive oil", density_g_per_ml=Decimal("0.91"))
    lye = await make_item(app, org, name="Lye")
    await restock(client, headers, oil, 910)
    await restock(client, headers, oil, 5000, expiration_date="2020-01-01")
    await restock(client, headers, lye, 100)
    response = await client.post(f"{API}/stock-check", headers=headers, json={"items": [
        {"item_id": str(oil), "quantity_needed": 0.5, "unit": "l"},
        {"item_id": str(lye), "quantity_needed": 150},
    ]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["overall_status"] == "insufficient"
    oil_check, lye_check = body["items"]
    assert (oil_check["status"], oil_check["available_quantity"], oil_check["needed_quantity"],
            oil_check["shortage"], oil_check["unit"]) == ("sufficient", 1, 0.5, 0, "l")
    assert oil_check["expired_quantity"] == pytest.approx(5000 / 910, abs=1e-8)
    assert (lye_check["status"], lye_check["available_quantity"], lye_check["shortage"],
            lye_check["unit"]) == ("insufficient", 100, 50, "g")

    for bad, status in (({"item_id": str(oil), "quantity_needed": 1, "unit": "count"}, 422),
                        ({"item_id": str(lye), "quantity_needed": 1, "unit": "ml"}, 422),
                        ({"item_id": str(uuid.uuid4()), "quantity_needed": 1}, 404),
                        ({"item_id": str(lye), "quantity_needed": 0}, 422)):
        response = await client.post(f"{API}/stock-check", headers=headers,
                                     json={"items": [bad]})
        assert response.status_code == status, bad


async def test_valuation_prices_each_fifo_layer_at_its_own_cost(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    oil = await make_item(app, org, name="A oil")
    soap = await make_item(app, org, name="B soap", type="product", default_unit="count")
    await restock(client, headers, oil, 100, cost="0.15")
    await restock(client, headers, oil, 200, cost="0.2")
    await restock(client, headers, soap, 10, cost="2.5")
    body = (await client.get(f"{API}/valuation", headers=headers)).json()
    assert body["total_value"] == 80
    assert [(i["item_name"], i["quantity"], i["value"]) for i in body["items"]] == [
        ("A oil", 300, 55), ("B soap", 10, 25)]
    assert [(layer["quantity"], layer["unit_cost"], layer["value"])
            for layer in body["items"][0]["layers"]] == [(100, 0.15, 15), (200, 0.2, 40)]
    products = (await client.get(f"{API}/valuation?type=product", headers=headers)).json()
    assert products["total_value"] == 25


async def test_the_ledger_check_is_for_owners_and_managers_and_finds_the_books_balanced(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    item = await make_item(app, org)
    await restock(client, auth(mint_token, org), item, 10)
    response = await client.get(f"{API}/ledger/check", headers=auth(mint_token, org, "manager"))
    assert response.json() == {"consistent": True, "discrepancies": []}
    response = await client.get(f"{API}/ledger/check",
                                headers=auth(mint_token, org, "operator"))
    assert response.status_code == 403
