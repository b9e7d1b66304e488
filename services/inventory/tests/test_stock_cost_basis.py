"""Recipes cost from ItemChanged: inventory republishes it whenever an item's cost basis moves."""

import json
import uuid

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from servicekit.messaging.tables import outbox

ITEMS = "/api/v1/inventory/items"
ADJUSTMENTS = "/api/v1/inventory/adjustments"


async def published_cost_bases(app: FastAPI, item_id: str) -> list[float | None]:
    """The cost basis of each ItemChanged published for the item, oldest first."""
    async with app.state.db.sessionmaker() as session:
        bodies = (await session.scalars(
            sa.select(outbox.c.body).where(outbox.c.routing_key == "inventory.ItemChanged.v1")
            .order_by(outbox.c.id))).all()
    events = [json.loads(body)["data"] for body in bodies]
    return [None if e.get("unit_cost") is None else float(e["unit_cost"])
            for e in events if e["item_id"] == item_id]


async def adjust(client: httpx.AsyncClient, headers: dict[str, str], **line: object) -> None:
    response = await client.post(ADJUSTMENTS, headers=headers, json={"adjustments": [line]})
    assert response.status_code == 200, response.text


async def test_a_restock_and_using_up_the_oldest_lot_republish_the_cost_basis(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    created = await client.post(ITEMS, headers=headers, json={
        "name": "Olive oil", "type": "ingredient", "default_unit": "g"})
    item_id = created.json()["id"]

    await adjust(client, headers, item_id=item_id, adjustment_type="restock", quantity=1000,
                 cost_per_unit=0.0072)
    await adjust(client, headers, item_id=item_id, adjustment_type="restock", quantity=1000,
                 cost_per_unit=0.0079)
    await adjust(client, headers, item_id=item_id, adjustment_type="spoil", quantity=1000)

    # created without stock, first lot in, second lot changes nothing, first lot used up
    assert await published_cost_bases(app, item_id) == [None, 0.0072, 0.0079]
