"""Batches on PostgreSQL with a real inventory beside it: both apps in this process, each on its
own database, sharing one in-memory transport, so batches' BatchStarted, BatchFinished and
BatchCancelled reach inventory's consumer and its answers come back as in the fleet.

Inventory runs for a test that asks for `inventory` (or `inventory_app`). A test that asks for
`inventory_down` begins with inventory's worker down: its queue exists and fills up, and the
test brings the worker up with `start_inventory()`, which drains it.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest
from fastapi import FastAPI

from batches.app import MIGRATIONS_DIR, create_app
from batches.settings import BatchesSettings
from inventory.app import MIGRATIONS_DIR as INVENTORY_MIGRATIONS_DIR
from inventory.app import create_app as create_inventory_app
from inventory.settings import InventorySettings
from inventory.testing import Stockroom
from servicekit.messaging.memory import InMemoryTransport
from servicekit.testing.plugin import PostgresDatabases
from servicekit.testing.service import in_process_client


@pytest.fixture(scope="session")
async def database_url(postgres_databases: PostgresDatabases) -> str:
    return await postgres_databases.create("batches", MIGRATIONS_DIR)


@pytest.fixture(scope="session")
async def inventory_database_url(postgres_databases: PostgresDatabases) -> str:
    return await postgres_databases.create("batches_inventory", INVENTORY_MIGRATIONS_DIR)


@pytest.fixture
async def transport() -> AsyncIterator[InMemoryTransport]:
    transport = InMemoryTransport()
    await transport.connect()
    yield transport
    await transport.close()


@pytest.fixture
async def app(database_url: str, token_keys: tuple[str, str], transport: InMemoryTransport,
              inventory_service: FastAPI) -> AsyncIterator[FastAPI]:
    """Batches, asking inventory's api in process (whether or not its worker has started)."""
    settings = BatchesSettings(database_url=database_url, broker_url="memory://",
                               jwt_public_key=token_keys[1])
    app = create_app(settings, transport=transport,
                     inventory_transport=httpx.ASGITransport(app=inventory_service))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_client(app) as client:
        yield client


@pytest.fixture
async def inventory_service(inventory_database_url: str, token_keys: tuple[str, str],
                            transport: InMemoryTransport) -> AsyncIterator[FastAPI]:
    """Inventory's app (api and worker) on its own database and the shared transport, built
    but not started: `start_inventory()` starts it."""
    settings = InventorySettings(database_url=inventory_database_url, broker_url="memory://",
                                 jwt_public_key=token_keys[1])
    app = create_inventory_app(settings, role="all", transport=transport)
    yield app
    await app.state.db.dispose()  # the lifespan disposes of it too, if it ran


@pytest.fixture
async def start_inventory(inventory_service: FastAPI,
                          ) -> AsyncIterator[Callable[[], Awaitable[FastAPI]]]:
    """start_inventory() -> inventory running (started on the first call), until the test
    ends."""
    async with AsyncExitStack() as running:
        started: list[FastAPI] = []

        async def start() -> FastAPI:
            if not started:
                await running.enter_async_context(
                    inventory_service.router.lifespan_context(inventory_service))
                started.append(inventory_service)
            return inventory_service

        yield start


@pytest.fixture
async def inventory_app(start_inventory: Callable[[], Awaitable[FastAPI]]) -> FastAPI:
    return await start_inventory()


@pytest.fixture
async def inventory_client(inventory_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_client(inventory_app) as client:
        yield client


@pytest.fixture
def org() -> uuid.UUID:
    """A fresh organization: tests keep apart by using their own."""
    return uuid.uuid4()


@pytest.fixture
def headers(mint_token: Callable[..., str], org: uuid.UUID) -> dict[str, str]:
    """An owner of `org`."""
    return {"Authorization": f"Bearer {mint_token(org_id=org, role='owner')}"}


@pytest.fixture
def inventory(inventory_app: FastAPI, org: uuid.UUID) -> Stockroom:
    """`org`'s stock in the running inventory."""
    return Stockroom(inventory_app, org)


@pytest.fixture
async def inventory_down(inventory_service: FastAPI, transport: InMemoryTransport,
                         org: uuid.UUID) -> Stockroom:
    """`org`'s stock in an inventory whose worker is down: its queue is declared with the
    routing keys its consumer subscribes to, so what batches publishes waits in it, as in a
    durable RabbitMQ queue, until `start_inventory()` brings the worker up to drain it."""
    consumer = inventory_service.state.runtime.consumer
    await transport.declare(consumer.queue, consumer.handlers.routing_keys)
    return Stockroom(inventory_service, org)
