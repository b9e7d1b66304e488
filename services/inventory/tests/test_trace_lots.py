"""Traceability from the ledger: a lye lot bought from a supplier is dissolved by batch 1
into a lye solution, which batch 2 turns (with olive oil) into soap, sold in an order and
reserved for a customer. Forward and backward through the intermediate batch, the recall view,
and quarantine keeping affected lots out of every later consumption."""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

import inventory.orders  # noqa: F401  (registers the order handlers until app.py imports it)
from contracts import BatchFinished, BatchStarted, OrderReceived
from contracts.batches import BatchLine, BatchOutput
from contracts.integrations import OrderLine
from inventory.models import Lot, Movement
from servicekit.messaging.tables import outbox
from servicekit.testing.service import deliver, envelope_for

INVENTORY = "/api/v1/inventory"
TRACE = f"{INVENTORY}/trace/lots"


async def post(client: httpx.AsyncClient, headers: dict[str, str], path: str,
               status: int = 201, **body: Any) -> dict[str, Any]:
    response = await client.post(f"{INVENTORY}{path}", headers=headers, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def batch(app: FastAPI, org: uuid.UUID, code: str, kind: str,
                uses: list[tuple[str, int]], makes: tuple[str, int, str, str]) -> uuid.UUID:
    """Start and finish a batch, as the batches service would announce them."""
    batch_id = uuid.uuid4()
    started = BatchStarted(
        batch_id=batch_id, batch_code=code, recipe_id=uuid.uuid4(), recipe_version=1,
        batch_type=kind,  # type: ignore[arg-type]
        lines=tuple(BatchLine(item_id=uuid.UUID(i), quantity=Decimal(q), unit="g",
                              role="ingredient") for i, q in uses))
    await deliver(app, envelope_for(started, org))
    item_id, quantity, unit, lot_number = makes
    finished = BatchFinished(
        batch_id=batch_id, batch_code=code, batch_type=kind,  # type: ignore[arg-type]
        outputs=(BatchOutput(item_id=uuid.UUID(item_id), quantity=Decimal(quantity), unit=unit,
                             unit_cost=Decimal("0.5"), lot_number=lot_number),),
        total_cost=Decimal(quantity) / 2)
    await deliver(app, envelope_for(finished, org))
    return batch_id


async def lot_of(app: FastAPI, org: uuid.UUID, lot_number: str) -> uuid.UUID:
    async with app.state.db.sessionmaker() as session:
        lot_id = await session.scalar(sa.select(Lot.id).where(
            Lot.org_id == org, Lot.lot_number == lot_number).order_by(Lot.created_at).limit(1))
    assert lot_id is not None, f"no lot {lot_number}"
    return lot_id


@dataclass
class Soapworks:
    lye_lot: str
    water_lot: str
    oil_lot: str
    solution_lot: str
    soap_lot: str
    moved_soap_lot: str
    dissolving: str
    saponifying: str
    order_id: str
    reservation_id: str
    bills: dict[str, str]
    suppliers: dict[str, str]
    soap: str


@pytest.fixture
async def soapworks(app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str],
                    org: uuid.UUID) -> Soapworks:
    items = {name: (await post(client, headers, "/items", name=name, **fields))["id"]
             for name, fields in {
                 "Lye": {"type": "ingredient", "default_unit": "g"},
                 "Water": {"type": "ingredient", "default_unit": "g"},
                 "Olive oil": {"type": "ingredient", "default_unit": "g"},
                 "Lye solution": {"type": "ingredient", "default_unit": "g"},
                 "Lavender soap": {"type": "product", "default_unit": "bars",
                                   "count_unit": "bars", "sku": "SOAP-LAV"},
             }.items()}
    suppliers = {name: (await post(client, headers, "/suppliers", name=name))["id"]
                 for name in ("Chem Co", "Oil Co")}
    bills, bill_lots = {}, {}
    for number, supplier, item, quantity in (("B-1", "Chem Co", "Lye", 500),
                                             ("B-2", "Oil Co", "Olive oil", 2000)):
        bill = await post(client, headers, "/purchase-bills", supplier_id=suppliers[supplier],
                          bill_number=number, lines=[{"item_id": items[item],
                                                      "quantity": quantity,
                                                      "unit_cost": 0.01}])
        bills[number], bill_lots[number] = bill["id"], bill["lines"][0]["lot_id"]
    water = await post(client, headers, "/adjustments", status=200, adjustments=[{
        "item_id": items["Water"], "adjustment_type": "restock", "quantity": 1000,
        "cost_per_unit": 0.001}])
    dissolving = await batch(app, org, "LS-1", "ingredient",
                             [(items["Lye"], 300), (items["Water"], 700)],
                             (items["Lye solution"], 1000, "g", "LS-1"))
    saponifying = await batch(app, org, "SOAP-1", "product",
                              [(items["Lye solution"], 400), (items["Olive oil"], 1000)],
                              (items["Lavender soap"], 10, "bars", "SOAP-1"))
    soap_lot = await lot_of(app, org, "SOAP-1")
    order_id = uuid.uuid4()
    await deliver(app, envelope_for(OrderReceived(
        order_id=order_id, channel_id=uuid.uuid4(), channel_type="shopify",
        external_order_id="#1001", placed_at=datetime.now(UTC),
        lines=(OrderLine(sku="SOAP-LAV", quantity=Decimal(3)),)), org))
    warehouse = await post(client, headers, "/locations", name="Warehouse", kind="warehouse")
    moved = await post(client, headers, "/lots/move", status=200, lot_id=str(soap_lot),
                       quantity=4, to_location_id=warehouse["id"])
    reservation = await post(client, headers, "/reservations", item_id=items["Lavender soap"],
                             quantity=2, customer_name="Jane Smith")
    return Soapworks(
        lye_lot=bill_lots["B-1"], water_lot=water["data"]["movements"][0]["lot_id"],
        oil_lot=bill_lots["B-2"], solution_lot=str(await lot_of(app, org, "LS-1")),
        soap_lot=str(soap_lot), moved_soap_lot=moved["to_lot"]["id"],
        dissolving=str(dissolving), saponifying=str(saponifying), order_id=str(order_id),
        reservation_id=reservation["id"], bills=bills, suppliers=suppliers,
        soap=items["Lavender soap"])


async def get(client: httpx.AsyncClient, headers: dict[str, str], path: str) -> dict[str, Any]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def events(app: FastAPI, org: uuid.UUID, name: str) -> list[dict[str, Any]]:
    async with app.state.db.sessionmaker() as session:
        rows = (await session.execute(
            sa.select(outbox.c.routing_key, outbox.c.body)
            .where(outbox.c.org_id == str(org)).order_by(outbox.c.id))).all()
    return [json.loads(row.body)["data"] for row in rows if f".{name}." in row.routing_key]


async def test_forward_from_an_ingredient_lot_reaches_the_orders_through_both_batches(
    client: httpx.AsyncClient, headers: dict[str, str], soapworks: Soapworks,
) -> None:
    trace = await get(client, headers, f"{TRACE}/{soapworks.lye_lot}")

    assert (trace["lot"]["id"], trace["lot"]["item_name"]) == (soapworks.lye_lot, "Lye")
    forward = trace["forward"]
    assert [b["batch_id"] for b in forward["batches"]] == [soapworks.dissolving,
                                                            soapworks.saponifying]
    dissolving = forward["batches"][0]
    assert sorted((c["item_name"], c["quantity"]) for c in dissolving["consumed"]) == [
        ("Lye", 300), ("Water", 700)]
    assert [(m["item_name"], m["quantity"]) for m in dissolving["made"]] == [
        ("Lye solution", 1000)]
    assert {(lot["id"], lot["depth"]) for lot in forward["lots"]} == {
        (soapworks.solution_lot, 1), (soapworks.soap_lot, 2), (soapworks.moved_soap_lot, 2)}
    [order] = forward["orders"]
    assert order["order_id"] == soapworks.order_id
    assert "#1001" in order["reference"]
    assert [(line["lot_id"], line["quantity"]) for line in order["lines"]] == [
        (soapworks.soap_lot, 3)]


async def test_backward_from_a_product_lot_reaches_suppliers_and_bills_through_both_batches(
    client: httpx.AsyncClient, headers: dict[str, str], soapworks: Soapworks,
) -> None:
    trace = await get(client, headers, f"{TRACE}/{soapworks.moved_soap_lot}")

    backward = trace["backward"]
    assert [b["batch_id"] for b in backward["batches"]] == [soapworks.saponifying,
                                                             soapworks.dissolving]
    assert {(lot["id"], lot["depth"]) for lot in backward["lots"]} == {
        (soapworks.soap_lot, 0), (soapworks.solution_lot, 1), (soapworks.oil_lot, 1),
        (soapworks.lye_lot, 2), (soapworks.water_lot, 2)}
    assert sorted(s["name"] for s in backward["suppliers"]) == ["Chem Co", "Oil Co"]
    bills = {b["bill_number"]: b for b in backward["purchase_bills"]}
    assert set(bills) == {"B-1", "B-2"}
    assert bills["B-1"]["lot_ids"] == [soapworks.lye_lot]
    assert trace["forward"]["orders"] == []  # nothing was sold from the moved part


async def test_the_recall_view_lists_orders_reservations_and_stock_by_location(
    client: httpx.AsyncClient, headers: dict[str, str], soapworks: Soapworks,
) -> None:
    recall = await get(client, headers, f"{TRACE}/{soapworks.lye_lot}/recall")

    assert [o["order_id"] for o in recall["orders"]] == [soapworks.order_id]
    assert [r["id"] for r in recall["reservations_to_stop"]] == [soapworks.reservation_id]
    stock = {place["location_name"]: {(lot["item_name"], lot["quantity_remaining"])
                                      for lot in place["lots"]}
             for place in recall["stock"]}
    assert stock == {
        "Warehouse": {("Lavender soap", 4)},
        "Workshop": {("Lye", 200), ("Lye solution", 600), ("Lavender soap", 3)},
    }
    assert recall["lots_to_quarantine"] == 4


async def test_quarantine_keeps_every_affected_lot_out_of_batches_and_sales(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    soapworks: Soapworks,
) -> None:
    response = await client.post(f"{TRACE}/{soapworks.lye_lot}/recall/quarantine",
                                 headers=headers)

    assert response.status_code == 200, response.text
    recall = response.json()
    assert sorted(recall["quarantined_now"]) == sorted([
        soapworks.lye_lot, soapworks.solution_lot, soapworks.soap_lot,
        soapworks.moved_soap_lot])
    assert recall["lots_to_quarantine"] == 0
    assert all(lot["quarantined"] for place in recall["stock"] for lot in place["lots"])
    assert (await get(client, headers, f"{INVENTORY}/lots/{soapworks.oil_lot}"))[
        "quarantined"] is False
    solution = (await get(client, headers, f"{TRACE}/{soapworks.solution_lot}"))["lot"]
    batch_id = uuid.uuid4()
    await deliver(app, envelope_for(BatchStarted(
        batch_id=batch_id, batch_code="SOAP-2", recipe_id=uuid.uuid4(), recipe_version=1,
        batch_type="product", lines=(BatchLine(item_id=uuid.UUID(solution["item_id"]),
                                               quantity=Decimal(100), unit="g",
                                               role="ingredient"),)), org))
    [failed] = await events(app, org, "StockDeductionFailed")
    assert failed["batch_id"] == str(batch_id)
    order_id = uuid.uuid4()
    await deliver(app, envelope_for(OrderReceived(
        order_id=order_id, channel_id=uuid.uuid4(), channel_type="amazon",
        external_order_id="A-1", placed_at=datetime.now(UTC),
        lines=(OrderLine(sku="SOAP-LAV", quantity=Decimal(1)),)), org))
    async with app.state.db.sessionmaker() as session:
        sold_from = list(await session.scalars(sa.select(Movement.lot_id).where(
            Movement.order_id == order_id)))
    assert sold_from == [None]  # oversold rather than taken from a quarantined lot
    again = await client.post(f"{TRACE}/{soapworks.lye_lot}/recall/quarantine",
                              headers=headers)
    assert again.json()["quarantined_now"] == []


async def test_another_organizations_lots_cannot_be_traced_or_quarantined(
    client: httpx.AsyncClient, soapworks: Soapworks, mint_token: Callable[..., str],
) -> None:
    stranger = {"Authorization": f"Bearer {mint_token(org_id=uuid.uuid4())}"}

    for path in (f"{TRACE}/{soapworks.lye_lot}", f"{TRACE}/{soapworks.lye_lot}/recall"):
        assert (await client.get(path, headers=stranger)).status_code == 404
    response = await client.post(f"{TRACE}/{soapworks.lye_lot}/recall/quarantine",
                                 headers=stranger)
    assert response.status_code == 404
    assert (await client.get(f"{TRACE}/{uuid.uuid4()}", headers=stranger)).status_code == 404
