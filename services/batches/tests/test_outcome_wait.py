"""The start request waits for an outcome recorded by another process: the api and the worker
as separate apps on one database, as in fleet mode, with polling slowed down so only the
PostgreSQL notification can wake the request in time."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from batches.app import create_app
from batches.settings import BatchesSettings
from batches.testing import START, plan
from contracts import StockDeducted
from contracts.inventory import ConsumptionLine
from servicekit.messaging.tables import outbox
from servicekit.testing.plugin import eventually
from servicekit.testing.servers import POSTGRES_URL
from servicekit.testing.service import deliver, envelope_for, in_process_client


@pytest.fixture
async def api_and_worker(database_url: str, token_keys: tuple[str, str],
                         ) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    def settings() -> BatchesSettings:
        return BatchesSettings(database_url=database_url, broker_url="memory://",
                               jwt_public_key=token_keys[1], outcome_poll_seconds=30)

    api, worker = create_app(settings(), role="api"), create_app(settings(), role="worker")
    async with api.router.lifespan_context(api), worker.router.lifespan_context(worker):
        await asyncio.wait_for(api.state.outcomes.listening.wait(), 10)
        yield api, worker


async def _start_and_answer(api: FastAPI, worker: FastAPI, headers: dict[str, str],
                            org: uuid.UUID) -> tuple[httpx.Response, float]:
    async with in_process_client(api) as client:
        began = time.monotonic()
        request = asyncio.create_task(client.post(
            START, headers={**headers, "Prefer": "wait=9"},
            json={"plan_snapshot": plan((uuid.uuid4(), 100))}))
        batch_id = await eventually(lambda: _started_batch(api, org))
        line = ConsumptionLine(item_id=uuid.uuid4(), lot_id=uuid.uuid4(), lot_number="L-1",
                               quantity=Decimal(100), unit="g", unit_cost=Decimal(1),
                               cost=Decimal(100))
        await deliver(worker, envelope_for(StockDeducted(
            batch_id=batch_id, consumption=(line,), total_cost=Decimal(100)), org))
        response = await request
        return response, time.monotonic() - began


async def _started_batch(app: FastAPI, org: uuid.UUID) -> uuid.UUID:
    async with app.state.db.sessionmaker() as session:
        body = await session.scalar(sa.select(outbox.c.body).where(
            outbox.c.org_id == str(org), outbox.c.routing_key == "batches.BatchStarted.v1"))
    assert body is not None
    return uuid.UUID(json.loads(body)["data"]["batch_id"])


async def test_the_api_hears_of_an_outcome_the_worker_recorded(
    api_and_worker: tuple[FastAPI, FastAPI], mint_token: Callable[..., str],
) -> None:
    api, worker = api_and_worker
    org = uuid.uuid4()
    headers = {"Authorization": f"Bearer {mint_token(org_id=org)}"}

    response, took = await _start_and_answer(api, worker, headers, org)

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "in_progress"
    assert took < 3  # far below the 30 s poll: the notification woke it


async def test_the_listener_reconnects_after_losing_its_connection(
    api_and_worker: tuple[FastAPI, FastAPI], mint_token: Callable[..., str],
    database_url: str,
) -> None:
    api, worker = api_and_worker
    database = database_url.rsplit("/", 1)[1]
    listeners = "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'"
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        killed = {row["pid"] for row in await conn.fetch(listeners, database)}
        assert killed
        await conn.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid",
                           list(killed))

        async def listening_again() -> None:
            now = {row["pid"] for row in await conn.fetch(listeners, database)}
            assert now - killed
            assert api.state.outcomes.listening.is_set()
        await eventually(listening_again, timeout=15)
    finally:
        await conn.close()
    org = uuid.uuid4()
    headers = {"Authorization": f"Bearer {mint_token(org_id=org)}"}

    response, took = await _start_and_answer(api, worker, headers, org)

    assert response.status_code == 201
    assert took < 3
