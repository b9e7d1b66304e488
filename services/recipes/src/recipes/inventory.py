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
import structlog
from fastapi import Depends, Request

from recipes.book import ItemFacts
from servicekit.context import request_id_var
from servicekit.dependencies import CallerDep
from servicekit.errors import ServiceUnavailable
from servicekit.identity import Caller

logger = structlog.get_logger("recipes.inventory")


class InventoryUnavailable(ServiceUnavailable):
    default_message = "Inventory did not answer in time; try again shortly"


def inventory_http(base_url: str, *, timeout: float,
                   transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The pooled client for inventory, made once per process."""
    return httpx.AsyncClient(base_url=base_url, transport=transport,
                             timeout=httpx.Timeout(timeout))


class InventoryClient:
    """Inventory's API, called with the caller's own token so inventory applies its rules."""

    def __init__(self, http: httpx.AsyncClient, caller: Caller) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {caller.token}",
                         "X-Request-ID": request_id_var.get() or str(uuid.uuid4())}

    async def find_item(self, item_id: uuid.UUID) -> ItemFacts | None:
        response = await self._call("GET", f"/api/v1/inventory/items/{item_id}")
        if response.status_code == 404:
            return None
        body = response.json()
        return ItemFacts(
            item_id=uuid.UUID(body["id"]), name=body["name"], type=body["type"],
            default_unit=body["default_unit"], count_unit=body.get("count_unit"),
            density_g_per_ml=_decimal(body.get("density_g_per_ml")),
            unit_cost=_decimal(body.get("unit_cost")), allergens=tuple(body.get("allergens", ())),
            archived=bool(body.get("archived")),
        )

    async def check_stock(self, lines: list[tuple[uuid.UUID, Decimal, str]]) -> dict[str, Any]:
        """Inventory's stock check for (item, quantity, unit) lines, net of reservations."""
        response = await self._call("POST", "/api/v1/inventory/stock-check", json={"items": [
            {"item_id": str(item_id), "quantity_needed": str(quantity), "unit": unit}
            for item_id, quantity, unit in lines]})
        return response.json()  # type: ignore[no-any-return]

    async def _call(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, headers=self._headers, **options)
        except httpx.HTTPError as error:
            logger.warning("inventory unreachable", path=path, error=repr(error))
            raise InventoryUnavailable(details={"service": "inventory"}) from error
        if response.status_code >= 500 or response.status_code in (401, 403):
            logger.warning("inventory refused", path=path, status=response.status_code,
                           body=response.text[:500])
            raise InventoryUnavailable(details={"service": "inventory",
                                                "status": response.status_code})
        if response.status_code >= 400 and response.status_code != 404:
            logger.warning("inventory rejected a request", path=path,
                           status=response.status_code, body=response.text[:500])
            raise InventoryUnavailable(details={"service": "inventory",
                                                "status": response.status_code})
        return response


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _inventory(request: Request, caller: CallerDep) -> InventoryClient:
    return InventoryClient(request.app.state.inventory_http, caller)


InventoryDep = Annotated[InventoryClient, Depends(_inventory)]
