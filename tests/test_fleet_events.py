"""The fleet as separate processes, talking only to the gateway."""

from __future__ import annotations

import httpx
import pytest

from servicekit.testing.plugin import eventually

pytestmark = pytest.mark.fleet


async def test_every_service_reports_ready_through_the_gateway(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/health")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "pass"
    assert set(body["checks"]) >= {"inventory", "recipes", "batches", "forecasting",
                                   "integrations"}


async def test_an_item_created_in_inventory_reaches_recipes_through_rabbitmq(
    gateway: httpx.AsyncClient, owner: dict[str, str], other_owner: dict[str, str],
) -> None:
    headers = {**owner, "X-Request-ID": "fleet-test-1"}
    created = await gateway.post("/api/v1/inventory/items", headers=headers,
                                 json={"name": "Olive oil", "type": "ingredient",
                                       "default_unit": "g"})
    assert created.status_code == 201, created.text
    assert created.headers["x-request-id"] == "fleet-test-1"
    item_id = created.json()["id"]

    async def recipes_knows_the_item() -> dict:
        response = await gateway.get(f"/api/v1/recipe-items/{item_id}", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    seen = await eventually(recipes_knows_the_item, timeout=20)
    assert seen["name"] == "Olive oil"

    hidden = await gateway.get(f"/api/v1/recipe-items/{item_id}", headers=other_owner)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


async def test_a_request_without_credentials_is_refused_at_the_gateway(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/api/v1/inventory/items")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTHENTICATION_REQUIRED"
