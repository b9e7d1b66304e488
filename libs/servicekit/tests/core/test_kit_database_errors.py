"""A database that cannot serve (it refuses connections, the pool has none to spare) is a 503
with Retry-After, not a 500; a fault of ours stays a 500. Against the real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from servicekit.errors import install_error_handlers
from servicekit.testing.plugin import PostgresDatabases
from servicekit.testing.servers import POSTGRES_URL


def app_on(engine: AsyncEngine) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/ping")
    async def ping() -> dict[str, int]:
        async with engine.connect() as connection:
            return {"one": int(await connection.scalar(sa.text("SELECT 1")))}

    @app.get("/broken")
    async def broken() -> dict[str, int]:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELEC 1"))
        return {}

    return app


async def call(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit.test") as client:
        return await client.get(path)


@pytest.fixture
async def database_url(postgres_databases: PostgresDatabases) -> str:
    return await postgres_databases.create("errors")


@pytest.fixture
async def refused_role() -> AsyncIterator[str]:
    """A role PostgreSQL lets log in but never gives a connection (limit 0): every connect
    fails with 53300 too_many_connections, as when a server is full."""
    name = f"sb_full_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE ROLE "{name}" LOGIN CONNECTION LIMIT 0')
        yield name
    finally:
        await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
        await admin.close()


async def test_a_server_refusing_connections_answers_503_with_retry_after(
    database_url: str, refused_role: str,
) -> None:
    engine = create_async_engine(database_url.replace("postgres@", f"{refused_role}@"))
    try:
        response = await call(app_on(engine), "/ping")
    finally:
        await engine.dispose()

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


async def test_a_pool_with_no_connection_to_spare_in_time_answers_503(database_url: str) -> None:
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        async with engine.connect():  # the only connection, held
            response = await call(app_on(engine), "/ping")
        after = await call(app_on(engine), "/ping")
    finally:
        await engine.dispose()

    assert response.status_code == 503
    assert (after.status_code, after.json()) == (200, {"one": 1})


async def test_a_bad_statement_of_ours_is_still_a_500(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        response = await call(app_on(engine), "/broken")
    finally:
        await engine.dispose()

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_SERVER_ERROR"
