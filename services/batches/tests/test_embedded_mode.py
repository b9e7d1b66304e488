"""Embedded mode: SQLite and the in-process transport, the api and worker in one process; the
waiting start is woken in-process (there is no LISTEN/NOTIFY)."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from batches.app import MIGRATIONS_DIR, create_app
from batches.settings import BatchesSettings
from batches.testing import START, FakeInventory, plan
from servicekit.migrations import upgrade_database
from servicekit.testing.service import in_process_client


@pytest.fixture
async def embedded(tmp_path: Path, token_keys: tuple[str, str],
                   ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'batches.db'}"
    await asyncio.to_thread(upgrade_database, MIGRATIONS_DIR, url)
    app = create_app(BatchesSettings(database_url=url, broker_url="memory://",
                                     jwt_public_key=token_keys[1], outcome_poll_seconds=30))
    async with app.router.lifespan_context(app), in_process_client(app) as client:
        yield app, client


async def test_an_embedded_start_is_answered_201_as_soon_as_stock_is_taken(
    embedded: tuple[FastAPI, httpx.AsyncClient], mint_token: Callable[..., str],
) -> None:
    app, client = embedded
    inventory = await FakeInventory(app.state.runtime.transport).subscribe()
    oil = uuid.uuid4()
    inventory.stock(oil, 1000, "0.01")
    headers = {"Authorization": f"Bearer {mint_token(org_id=uuid.uuid4())}"}
    began = time.monotonic()

    responses = await asyncio.gather(*(client.post(START, headers=headers, json={
        "plan_snapshot": plan((oil, 100))}) for _ in range(5)))

    assert [r.status_code for r in responses] == [201] * 5
    assert time.monotonic() - began < 5  # woken in-process, not by the 30 s poll
    assert len({r.json()["code"] for r in responses}) == 5
    assert sum(r.json()["actual_cost"] for r in responses) == 5


async def test_an_embedded_start_without_an_answer_is_a_202(
    embedded: tuple[FastAPI, httpx.AsyncClient], mint_token: Callable[..., str],
) -> None:
    app, client = embedded
    inventory = await FakeInventory(app.state.runtime.transport, hold=True).subscribe()
    headers = {"Authorization": f"Bearer {mint_token(org_id=uuid.uuid4())}",
               "Prefer": "wait=0.2"}

    response = await client.post(START, headers=headers,
                                 json={"plan_snapshot": plan((uuid.uuid4(), 1))})

    assert response.status_code == 202
    assert len(inventory.started) == 1
