"""Shortcuts for inventory's tests: a product through the API, stock straight through the ledger."""

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI

from inventory.catalog.service import default_location
from inventory.models import Item
from inventory.stock import ledger
from inventory.stock.items import get_item
from servicekit.db import EventContext, utcnow

ITEMS = "/api/v1/inventory/items"


async def product(client: httpx.AsyncClient, headers: dict[str, str], sku: str,
                  **extra: Any) -> str:
    response = await client.post(ITEMS, headers=headers, json={
        "name": f"Soap {sku}", "type": "product", "default_unit": "bars",
        "count_unit": "bars", "sku": sku, **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def restock(app: FastAPI, org: uuid.UUID, item_id: str, quantity: str,
                  unit_cost: str = "1", *, days_ago: int = 0) -> uuid.UUID:
    async with app.state.db.unit_of_work(EventContext(org_id=org)) as uow:
        item = await get_item(uow.session, org, uuid.UUID(item_id))
        location = await default_location(uow, org)
        lot, _ = ledger.receive(uow, org, item, Decimal(quantity),
                                unit_cost=Decimal(unit_cost), location_id=location.id,
                                provenance=ledger.Provenance(actor="test"),
                                received_at=utcnow() - timedelta(days=days_ago))
        await uow.commit()
        return lot.id


async def make_item(app: FastAPI, org_id: uuid.UUID, **values: Any) -> uuid.UUID:
    """An item written straight to the database (an ingredient in grams unless told)."""
    values = {"name": f"item {uuid.uuid4().hex[:8]}", "type": "ingredient",
              "default_unit": "g", **values}
    async with app.state.db.sessionmaker() as session:
        item = Item(id=uuid.uuid4(), org_id=org_id, **values)
        session.add(item)
        await session.commit()
    return item.id


async def restock_by_adjustment(client: httpx.AsyncClient, headers: dict[str, str],
                                item_id: uuid.UUID, quantity: Any, cost: Any = 1,
                                **extra: Any) -> dict[str, Any]:
    """A restock through POST /adjustments; its movement."""
    response = await client.post("/api/v1/inventory/adjustments", headers=headers, json={
        "adjustments": [{"item_id": str(item_id), "adjustment_type": "restock",
                         "quantity": quantity, "cost_per_unit": cost, **extra}]})
    assert response.status_code == 200, response.text
    return response.json()["data"]["movements"][0]
