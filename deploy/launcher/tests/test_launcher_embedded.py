"""Embedded mode: the whole fleet in one process on SQLite and the in-process transport."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from launcher.demo import DEMO_EMAIL, DEMO_PASSWORD
from launcher.embedded import embedded_fleet
from launcher.keys import ensure_keys
from servicekit.testing.plugin import eventually

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
async def fleet_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    ensure_keys(tmp_path / "keys")
    async with embedded_fleet(tmp_path) as gateway, gateway.router.lifespan_context(gateway):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://fleet") as client:
            yield client


async def signed_in(client: httpx.AsyncClient) -> dict[str, str]:
    registered = await client.post("/api/v1/auth/register", json={
        "organization_name": "Lye & Larch Soaps", "email": f"{uuid.uuid4().hex}@example.com",
        "password": "correct horse battery", "first_name": "Ada", "last_name": "Lovelace"})
    assert registered.status_code == 201, registered.text
    return {"Authorization": f"Bearer {registered.json()['access_token']}"}


async def test_every_service_passes_its_readiness_check(fleet_client: httpx.AsyncClient) -> None:
    client = fleet_client
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "pass"
    assert {name for name, [check] in body["checks"].items() if check["status"] == "pass"} == {
        "inventory", "recipes", "batches", "forecasting", "integrations"}


async def test_an_event_crosses_services_on_the_in_process_transport(
    fleet_client: httpx.AsyncClient,
) -> None:
    client = fleet_client
    headers = await signed_in(client)
    created = await client.post("/api/v1/inventory/items", headers=headers,
                                json={"name": "Lye", "type": "ingredient", "default_unit": "g"})
    assert created.status_code == 201, created.text

    async def recipes_knows_it() -> None:
        response = await client.get(f"/api/v1/recipe-items/{created.json()['id']}",
                                    headers=headers)
        assert response.status_code == 200
    await eventually(recipes_knows_it, timeout=5)


async def test_recipes_ask_inventory_in_process_for_stock_and_new_items(
    fleet_client: httpx.AsyncClient,
) -> None:
    client = fleet_client
    headers = await signed_in(client)
    created = await client.post("/api/v1/inventory/items", headers=headers,
                                json={"name": "Lye", "type": "ingredient", "default_unit": "g"})
    lye = created.json()["id"]
    restock = await client.post("/api/v1/inventory/adjustments", headers=headers, json={
        "adjustments": [{"item_id": lye, "adjustment_type": "restock", "quantity": 500,
                         "cost_per_unit": 0.01}]})
    assert restock.status_code == 200, restock.text
    # At once, whether or not recipes has heard of the item yet: inventory vouches for it.
    recipe = await client.post("/api/v1/recipes", headers=headers, json={
        "name": "Lye solution", "yield_qty": 1, "yield_unit": "l",
        "items": [{"item_id": lye, "quantity": 150, "unit": "g"}]})
    assert recipe.status_code == 201, recipe.text

    check = await client.post("/api/v1/production/stock-check", headers=headers,
                              json={"recipe_id": recipe.json()["id"]})

    assert check.status_code == 200, check.text
    assert (check.json()["max_batches"], check.json()["limiting_item"]["item_id"]) == (3, lye)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.fleet
def test_the_embedded_command_serves_a_healthy_fleet_with_the_demo_within_60_seconds(
    tmp_path: Path,
) -> None:
    port = _free_port()
    env = {**os.environ, "SMALLBATCH_VAR_DIR": str(tmp_path), "SMALLBATCH_PORT": str(port)}
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "launcher", "embedded"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        status = None
        while time.monotonic() - started < 60 and process.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                status = response.json()["status"]
                if status == "pass":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        assert status == "pass", process.stderr.read().decode()[-3000:] if process.poll() else ""
        demo = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
        login = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/login", json=demo, timeout=10)
        for _ in range(2):  # the demo is seeded once the fleet serves; logins are 5/min
            if login.status_code == 200:
                break
            time.sleep(1.5)
            login = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/login", json=demo,
                               timeout=10)
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        products = httpx.get(f"http://127.0.0.1:{port}/api/v1/inventory/items?type=product",
                             headers=headers, timeout=10).json()
        assert {p["sku"] for p in products["items"]} == {"SOAP-LAV-4OZ", "SOAP-OAT-4OZ"}
        recipes = httpx.get(f"http://127.0.0.1:{port}/api/v1/recipes", headers=headers,
                            timeout=10).json()
        assert {r["name"] for r in recipes["items"]} == {
            "Lavender soap", "Oatmeal & shea soap", "Lye solution"}
        lavender = next(r for r in recipes["items"] if r["name"] == "Lavender soap")
        check = httpx.post(f"http://127.0.0.1:{port}/api/v1/production/stock-check",
                           headers=headers, json={"recipe_id": lavender["id"]}, timeout=10)
        assert check.status_code == 200, check.text
        assert check.json()["max_batches"] == 4  # four loaf molds in stock
        assert check.json()["limiting_item"]["item_name"] == "Loaf mold, 10 bars"
        assert sorted(p.name for p in tmp_path.glob("*.db")) == [
            "batches.db", "forecasting.db", "gateway.db", "integrations.db", "inventory.db",
            "recipes.db"]
    finally:
        process.terminate()
        process.wait(15)


async def test_the_gateway_serves_one_openapi_document_for_every_service_and_its_docs(
    fleet_client: httpx.AsyncClient,
) -> None:
    client = fleet_client
    document = (await client.get("/openapi.json")).json()
    assert {"/api/v1/inventory/items", "/api/v1/inventory/items/{item_id}",
            "/api/v1/recipe-items", "/api/v1/recipe-items/{item_id}",
            "/api/v1/auth/login", "/api/v1/api-keys"} <= set(document["paths"])
    assert "x-unavailable-services" not in document
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text
