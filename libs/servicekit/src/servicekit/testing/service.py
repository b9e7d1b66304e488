"""Driving one service in a test: its app with the lifespan running, a client, and events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contracts import Event
from servicekit.messaging.envelope import Envelope
from servicekit.messaging.transport import Delivery, Disposition
from servicekit.settings import ServiceSettings
from servicekit.testing.plugin import PostgresDatabases


def in_process_client(app: FastAPI) -> httpx.AsyncClient:
    """A client that calls `app` in-process (its lifespan must already be running)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


@asynccontextmanager
async def running_service(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run `app`'s lifespan and yield an HTTP client that calls it in-process."""
    async with app.router.lifespan_context(app), in_process_client(app) as client:
        yield client


def envelope_for(event: Event, org_id: uuid.UUID | str, *, time: datetime | None = None,
                 source: str = "/smallbatch/test") -> Envelope:
    extra = {"time": time} if time is not None else {}
    return Envelope(source=source, type=event.routing_key(), data=event.model_dump(mode="json"),
                    orgid=str(org_id), **extra)


async def deliver(app: FastAPI, envelope: Envelope, *, attempt: int = 1) -> Disposition:
    """Hand `envelope` to the service's consumer as the broker would; return its verdict."""
    consumer = app.state.runtime.consumer
    if consumer is None:
        raise RuntimeError("this app runs no consumer (role 'api', or no handlers)")
    return await consumer.on_delivery(
        Delivery(body=envelope.to_bytes(), routing_key=envelope.type, message_id=envelope.id,
                 attempt=attempt)
    )


def service_fixtures(name: str, create_app: Callable[..., FastAPI],
                     settings_class: type[ServiceSettings], migrations_dir: Path,
                     ) -> tuple[Any, Any, Any]:
    """The `database_url`, `app` and `client` fixtures of one service's tests:

        database_url, app, client = service_fixtures("batches", create_app, BatchesSettings,
                                                     MIGRATIONS_DIR)

    One migrated PostgreSQL database per run (tests keep apart by using fresh organizations),
    the app on the in-process transport with the test token key, and a client for it.
    """

    @pytest.fixture(scope="session", name="database_url")
    async def database_url_fixture(postgres_databases: PostgresDatabases) -> str:
        return await postgres_databases.create(name, migrations_dir)

    @pytest.fixture(name="app")
    async def app_fixture(database_url: str,
                          token_keys: tuple[str, str]) -> AsyncIterator[FastAPI]:
        settings = settings_class(database_url=database_url, broker_url="memory://",
                                  jwt_public_key=token_keys[1])
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            yield app

    @pytest.fixture(name="client")
    async def client_fixture(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        async with in_process_client(app) as client:
            yield client

    return database_url_fixture, app_fixture, client_fixture
