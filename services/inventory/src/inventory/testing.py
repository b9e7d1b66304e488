"""Shortcuts for inventory's tests: a product through the API, stock straight through the ledger;
and `Stockroom`, one organization's stock in a real inventory for the tests of the services
that take from it."""

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from contracts import Event
from inventory.catalog.service import default_location
from inventory.models import Item, Lot, Movement
from inventory.stock import ledger
from inventory.stock.items import cost_per_default_unit, get_item, to_default_unit
from servicekit.db import EventContext, utcnow
from servicekit.messaging.tables import inbox

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


class Stockroom:
    """One organization's stock in a real inventory app, for another service's tests: items
    and lots written straight through inventory's database (the app need not be running yet),
    and what inventory did with the events it handled read back from its own tables."""

    def __init__(self, app: FastAPI, org_id: uuid.UUID) -> None:
        self.app = app
        self.org_id = org_id

    async def item(self, item_id: uuid.UUID, unit: str = "g", **values: Any) -> uuid.UUID:
        """The item `item_id`, made if the organization has none by that id: an ingredient
        kept in `unit` unless `values` say otherwise."""
        async with self.app.state.db.sessionmaker() as session:
            if await session.get(Item, item_id) is None:
                session.add(Item(**{"name": f"item {uuid.uuid4().hex[:8]}",
                                    "type": "ingredient", **values},
                                 id=item_id, org_id=self.org_id, default_unit=unit))
                await session.commit()
        return item_id

    async def stock(self, item_id: uuid.UUID, quantity: Any, unit_cost: Any = 1,
                    unit: str = "g") -> uuid.UUID:
        """A new lot of `quantity` `unit` of the item at `unit_cost` per `unit`, received now
        (the item made in `unit` if it is new); the lot's id."""
        await self.item(item_id, unit)
        async with self.app.state.db.unit_of_work(EventContext(org_id=self.org_id)) as uow:
            item = await get_item(uow.session, self.org_id, item_id)
            location = await default_location(uow, self.org_id)
            lot, _ = ledger.receive(
                uow, self.org_id, item, to_default_unit(item, Decimal(str(quantity)), unit),
                unit_cost=cost_per_default_unit(item, Decimal(str(unit_cost)), unit),
                location_id=location.id, provenance=ledger.Provenance(actor="test"))
            await uow.commit()
            return lot.id

    async def remaining(self, lot_id: uuid.UUID) -> Decimal:
        """What is left in the lot, in its item's default unit."""
        async with self.app.state.db.sessionmaker() as session:
            lot = await session.get(Lot, lot_id)
            assert lot is not None and lot.org_id == self.org_id, f"no lot {lot_id}"
            return lot.quantity_remaining

    async def movements(self, batch_id: uuid.UUID) -> list[Movement]:
        """The ledger's lines for the batch, oldest first: stock it took, gave back, made."""
        async with self.app.state.db.sessionmaker() as session:
            return list(await session.scalars(
                sa.select(Movement).where(Movement.org_id == self.org_id,
                                          Movement.batch_id == batch_id)
                .order_by(Movement.id)))

    async def lots_made(self, batch_id: uuid.UUID) -> list[Lot]:
        """The lots the batch's outputs became, in the order they were received."""
        async with self.app.state.db.sessionmaker() as session:
            return list(await session.scalars(
                sa.select(Lot).where(Lot.org_id == self.org_id, Lot.batch_id == batch_id,
                                     Lot.source == "batch_output")
                .order_by(Lot.created_at, Lot.lot_number)))

    async def handled(self, event: type[Event]) -> int:
        """How many distinct `event`s of the organization inventory has handled (its inbox)."""
        async with self.app.state.db.sessionmaker() as session:
            return int(await session.scalar(
                sa.select(sa.func.count()).select_from(inbox)
                .where(inbox.c.org_id == str(self.org_id),
                       inbox.c.event_type == event.routing_key())) or 0)
