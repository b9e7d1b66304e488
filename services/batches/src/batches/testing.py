"""Shortcuts for batches' tests: hand-made plan snapshots, and the events batches published."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import sqlalchemy as sa
from fastapi import FastAPI

from contracts import Event
from servicekit.messaging.envelope import Envelope
from servicekit.messaging.tables import outbox

E = TypeVar("E", bound=Event)

START = "/api/v1/batches/start"


def plan(*ingredients: tuple[uuid.UUID, Any] | tuple[uuid.UUID, Any, str],
         consumables: tuple[tuple[uuid.UUID, Any], ...] = (),
         containers: tuple[tuple[uuid.UUID, int], ...] = (), **extra: Any) -> dict[str, Any]:
    """A plan snapshot as JSON: ingredients as (item, quantity[, unit]) in grams unless told,
    consumables in count, containers by count."""
    def line(entry: tuple[Any, ...], unit: str) -> dict[str, Any]:
        return {"inventory_item_id": str(entry[0]), "quantity": str(entry[1]),
                "unit": entry[2] if len(entry) > 2 else unit}

    return {
        "recipe_id": str(uuid.uuid4()), "recipe_version": 1, "recipe_name": "Milk and Honey",
        "projected_yield": 10, "projected_yield_unit": "bars",
        "ingredients_plan": [line(entry, "g") for entry in ingredients],
        "consumables_plan": [line(entry, "count") for entry in consumables],
        "containers": [{"id": str(c), "quantity": n} for c, n in containers],
        **extra,
    }


async def published(app: FastAPI, org_id: uuid.UUID, event: type[E]) -> list[E]:
    """The `event`s batches has published for the organization (its outbox), oldest first."""
    async with app.state.db.sessionmaker() as session:
        bodies = await session.scalars(
            sa.select(outbox.c.body).where(outbox.c.org_id == str(org_id),
                                           outbox.c.routing_key == event.routing_key())
            .order_by(outbox.c.id))
        return [event.model_validate(Envelope.from_bytes(body).data) for body in bodies]
