"""Asking inventory synchronously, as the caller, with a timeout (DESIGN.md: queries may be
synchronous HTTP between services; commands go over events).

Recipes asks for two things: whether an item it has not heard of yet exists (its
`ItemChanged` may still be on the way), and how much of some items is available now.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request

from recipes.book import ItemFacts
from servicekit.dependencies import CallerDep
from servicekit.identity import Caller
from servicekit.peers import PeerClient


class InventoryClient:
    """Inventory's API, called with the caller's own token so inventory applies its rules."""

    def __init__(self, http: httpx.AsyncClient, caller: Caller) -> None:
        self._peer = PeerClient(http, caller, "inventory")

    async def find_item(self, item_id: uuid.UUID) -> ItemFacts | None:
        body = await self._peer.get(f"/api/v1/inventory/items/{item_id}")
        if body is None:
            return None
        return ItemFacts(
            item_id=uuid.UUID(body["id"]), name=body["name"], type=body["type"],
            default_unit=body["default_unit"], count_unit=body.get("count_unit"),
            density_g_per_ml=_decimal(body.get("density_g_per_ml")),
            unit_cost=_decimal(body.get("unit_cost")), allergens=tuple(body.get("allergens", ())),
            archived=bool(body.get("archived")),
        )

    async def check_stock(self, lines: list[tuple[uuid.UUID, Decimal, str]]) -> dict[str, Any]:
        """Inventory's stock check for (item, quantity, unit) lines, net of reservations."""
        return await self._peer.post("/api/v1/inventory/stock-check", json={"items": [
            {"item_id": str(item_id), "quantity_needed": str(quantity), "unit": unit}
            for item_id, quantity, unit in lines]})


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _inventory(request: Request, caller: CallerDep) -> InventoryClient:
    return InventoryClient(request.app.state.inventory_http, caller)


InventoryDep = Annotated[InventoryClient, Depends(_inventory)]
