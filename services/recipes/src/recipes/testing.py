"""Shortcuts for recipes' tests: items as inventory announces them, recipes through the API."""

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from contracts import ItemChanged
from servicekit.messaging import Envelope
from servicekit.testing.service import deliver

RECIPES = "/api/v1/recipes"


def item_changed(org_id: uuid.UUID, *, time: datetime | None = None,
                 extra_data: dict[str, Any] | None = None, **fields: Any) -> Envelope:
    """An ItemChanged envelope as inventory's outbox would publish it."""
    event = ItemChanged.model_validate({
        "item_id": uuid.uuid4(), "name": "Olive oil", "type": "ingredient", "default_unit": "g",
        **fields,
    })
    return Envelope(
        source="/smallbatch/inventory", type=ItemChanged.routing_key(), subject=str(event.item_id),
        data=event.model_dump(mode="json") | (extra_data or {}), orgid=str(org_id),
        time=time or datetime.now(UTC),
    )


async def known_item(app: FastAPI, org_id: uuid.UUID, name: str, **fields: Any) -> str:
    """An item recipes has heard of (its ItemChanged handled); its id."""
    envelope = item_changed(org_id, name=name, **fields)
    await deliver(app, envelope)
    return envelope.subject  # type: ignore[return-value]


async def create_recipe(client: httpx.AsyncClient, headers: dict[str, str], name: str,
                        items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    body = {"name": name, "yield_qty": 1, "yield_unit": "batch", "items": items, **fields}
    response = await client.post(RECIPES, headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
