"""Recipes on PostgreSQL with a real inventory beside it: both apps in this process on one
in-memory transport, so inventory's ItemChanged reaches recipes as in the fleet, and recipes
asks inventory over HTTP (in-process ASGI)."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

import inventory.app
from inventory.settings import InventorySettings
from recipes.app import MIGRATIONS_DIR, create_app
from recipes.settings import RecipesSettings
from servicekit.messaging.memory import InMemoryTransport
from servicekit.testing.plugin import PostgresDatabases
from servicekit.testing.service import in_process_client


@pytest.fixture(scope="session")
async def database_url(postgres_databases: PostgresDatabases) -> str:
    return await postgres_databases.create("recipes", MIGRATIONS_DIR)


@pytest.fixture(scope="session")
async def inventory_database_url(postgres_databases: PostgresDatabases) -> str:
    return await postgres_databases.create("recipes_inventory", inventory.app.MIGRATIONS_DIR)


@pytest.fixture
async def transport() -> AsyncIterator[InMemoryTransport]:
    transport = InMemoryTransport()
    await transport.connect()
    yield transport
    await transport.close()


@pytest.fixture
async def inventory_app(inventory_database_url: str, token_keys: tuple[str, str],
                        transport: InMemoryTransport) -> AsyncIterator[FastAPI]:
    settings = InventorySettings(database_url=inventory_database_url, broker_url="memory://",
                                 jwt_public_key=token_keys[1])
    app = inventory.app.create_app(settings, transport=transport)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def app(database_url: str, token_keys: tuple[str, str], transport: InMemoryTransport,
              inventory_app: FastAPI) -> AsyncIterator[FastAPI]:
    settings = RecipesSettings(database_url=database_url, broker_url="memory://",
                               jwt_public_key=token_keys[1])
    app = create_app(settings, transport=transport,
                     inventory_transport=httpx.ASGITransport(app=inventory_app))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_client(app) as client:
        yield client


@pytest.fixture
async def inventory_client(inventory_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_client(inventory_app) as client:
        yield client
