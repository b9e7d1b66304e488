"""Embedded mode: SQLite and the in-process transport, the api and worker in one process, with
inventory beside it on a SQLite file of its own (as the embedded launcher runs them); the
waiting start is woken in-process (there is no LISTEN/NOTIFY)."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from batches.app import MIGRATIONS_DIR, create_app
from batches.settings import BatchesSettings
from batches.testing import START, plan
from contracts import BatchStarted
from inventory.app import MIGRATIONS_DIR as INVENTORY_MIGRATIONS_DIR
from inventory.app import create_app as create_inventory_app
from inventory.settings import InventorySettings
from inventory.testing import Stockroom
from servicekit.messaging.memory import InMemoryTransport
from servicekit.migrations import upgrade_database
from servicekit.testing.plugin import eventually


async def sqlite_database(path: Path, migrations_dir: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade_database, migrations_dir, url)
    return url


@pytest.fixture
async def app(tmp_path: Path, token_keys: tuple[str, str],
              transport: InMemoryTransport) -> AsyncIterator[FastAPI]:
    """Batches embedded, with polling slowed down so only the in-process wake-up is in time."""
    url = await sqlite_database(tmp_path / "batches.db", MIGRATIONS_DIR)
    app = create_app(BatchesSettings(database_url=url, broker_url="memory://",
                                     jwt_public_key=token_keys[1], outcome_poll_seconds=30),
                     transport=transport)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def inventory_service(tmp_path: Path, token_keys: tuple[str, str],
                            transport: InMemoryTransport) -> AsyncIterator[FastAPI]:
    """Inventory embedded beside batches, built but not started."""
    url = await sqlite_database(tmp_path / "inventory.db", INVENTORY_MIGRATIONS_DIR)
    app = create_inventory_app(InventorySettings(database_url=url, broker_url="memory://",
                                                 jwt_public_key=token_keys[1]),
                               role="all", transport=transport)
    yield app
    await app.state.db.dispose()


async def test_an_embedded_start_is_answered_201_as_soon_as_stock_is_taken(
    client: httpx.AsyncClient, headers: dict[str, str], inventory: Stockroom,
) -> None:
    oil = uuid.uuid4()
    lot = await inventory.stock(oil, 1000, "0.01")
    began = time.monotonic()

    responses = await asyncio.gather(*(client.post(START, headers=headers, json={
        "plan_snapshot": plan((oil, 100))}) for _ in range(5)))

    assert [r.status_code for r in responses] == [201] * 5
    assert time.monotonic() - began < 5  # woken in-process, not by the 30 s poll
    assert len({r.json()["code"] for r in responses}) == 5
    assert sum(r.json()["actual_cost"] for r in responses) == 5
    assert await inventory.remaining(lot) == 500


async def test_an_embedded_start_without_an_answer_is_a_202(
    client: httpx.AsyncClient, headers: dict[str, str], inventory_down: Stockroom,
    start_inventory: Callable[[], Awaitable[FastAPI]],
) -> None:
    oil = uuid.uuid4()
    await inventory_down.stock(oil, 1000, "0.01")

    response = await client.post(START, headers={**headers, "Prefer": "wait=0.2"},
                                 json={"plan_snapshot": plan((oil, 100))})

    assert response.status_code == 202
    await start_inventory()  # the start waited in inventory's queue

    async def in_progress() -> None:
        batch = (await client.get(f"/api/v1/batches/{response.json()['id']}",
                                  headers=headers)).json()
        assert (batch["status"], batch["actual_cost"]) == ("in_progress", 1)
    await eventually(in_progress)
    assert await inventory_down.handled(BatchStarted) == 1
