"""Real HTTP on both sides: the gateway and small upstream apps served by uvicorn on ephemeral
ports of 127.0.0.1, reached with a real client."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from gateway.app import MIGRATIONS_DIR, create_app
from gateway.identity.testing import access_token
from gateway.settings import GatewaySettings
from servicekit.migrations import upgrade_database

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
SERVICES = ("inventory", "recipes", "batches", "forecasting", "integrations")


@asynccontextmanager
async def serve(app: ASGIApp, **options: Any) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on an ephemeral port; yields its base URL."""
    options = {"host": "127.0.0.1", "port": 0, "log_config": None, "access_log": False,
               "lifespan": "on", "timeout_graceful_shutdown": 1, **options}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def unused_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def upstream_app(name: str, *, health: str = "pass", health_delay: float = 0.0) -> Starlette:
    """A stand-in service: echoes what it received and answers in a few telling ways."""

    async def echo(request: Request) -> Response:
        body = await request.body()
        payload = {
            "service": name,
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode()] for k, v in request.scope["headers"]],
            "body": body.decode(),
        }
        return Response(
            json.dumps(payload), status_code=201 if request.method == "POST" else 200,
            media_type="application/json",
            headers={"X-Upstream": name, "Cache-Control": "no-store", "ETag": '"v1"'},
        )

    async def hop_by_hop(_: Request) -> Response:
        return Response(b"ok", headers={
            "Keep-Alive": "timeout=5", "Proxy-Authenticate": "Basic", "Trailer": "X-Sum",
            "Connection": "X-Hop-Secret", "X-Hop-Secret": "s3cret", "X-Kept": "yes",
        })

    async def sets_cookie(_: Request) -> Response:
        response = Response(b"ok")
        response.set_cookie("session", "alice-only")
        return response

    async def slow(_: Request) -> Response:
        await asyncio.sleep(5)
        return Response(b"too late")

    async def stream(_: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(50):
                yield f"line {i}\n".encode() * 100
                await asyncio.sleep(0)

        return StreamingResponse(chunks(), media_type="text/plain")

    async def ready(_: Request) -> JSONResponse:
        await asyncio.sleep(health_delay)
        body = {"status": health, "serviceId": name, "version": "0.1.0",
                "checks": {"database": [{"componentId": "database", "status": health}]}}
        return JSONResponse(body, status_code=503 if health == "fail" else 200,
                            media_type="application/health+json")

    return Starlette(routes=[
        Route("/health/ready", ready),
        Route("/api/v1/inventory/hop-by-hop", hop_by_hop),
        Route("/api/v1/inventory/sets-cookie", sets_cookie),
        Route("/api/v1/inventory/slow", slow),
        Route("/api/v1/inventory/stream", stream),
        Route("/{path:path}", echo, methods=ALL_METHODS),
    ])


@pytest.fixture(scope="session")
async def upstream_url() -> AsyncIterator[str]:
    """One echoing upstream that every service's URL points at, unless a test says otherwise."""
    async with serve(upstream_app("echo")) as url:
        yield url


GatewayFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture(scope="session")
async def gateway_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The gateway's own (identity) database: SQLite, migrated once for the run."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('gateway') / 'gateway.db'}"
    await asyncio.to_thread(upgrade_database, MIGRATIONS_DIR, url)
    return url


@pytest.fixture
def gateway_settings(gateway_database: str,
                     token_keys: tuple[str, str]) -> Callable[..., GatewaySettings]:
    """gateway_settings(**overrides): settings with a migrated database and the test key;
    rate limits are off unless a test turns them on."""

    def make(**overrides: Any) -> GatewaySettings:
        return GatewaySettings(**{"database_url": gateway_database,
                                  "jwt_private_key": token_keys[0],
                                  "rate_limits_enabled": False, **overrides})

    return make


@pytest.fixture
def gateway(upstream_url: str,
            gateway_settings: Callable[..., GatewaySettings]) -> GatewayFactory:
    """gateway(**settings, upstream_transports=..., uvicorn_options=..., configure=...) -> a
    client of a gateway served by uvicorn.

    Every service URL defaults to the shared echoing upstream. `configure(app)` is called
    before the app is served (to add what a test needs, or to keep the app at hand). The
    client signs in as an owner of a fresh organization (its access token in every request).
    """

    @asynccontextmanager
    async def start(*, upstream_transports: dict[str, httpx.AsyncBaseTransport] | None = None,
                    uvicorn_options: dict[str, Any] | None = None,
                    configure: Callable[[FastAPI], object] | None = None,
                    **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        urls = {f"{service}_url": upstream_url for service in SERVICES}
        settings = gateway_settings(**{**urls, **overrides})
        app = create_app(settings, upstream_transports=upstream_transports)
        if configure is not None:
            configure(app)
        headers = {"Authorization": f"Bearer {access_token(settings)}"}
        async with serve(app, **(uvicorn_options or {})) as url, \
                httpx.AsyncClient(base_url=url, timeout=10, headers=headers) as client:
            yield client

    return start


@pytest.fixture
async def client(gateway: GatewayFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway with default settings in front of the echoing upstream."""
    async with gateway() as client:
        yield client


@pytest.fixture(name="serve")
def serve_fixture() -> Callable[..., AbstractAsyncContextManager[str]]:
    """serve(app) -> async context manager yielding the URL uvicorn serves `app` on."""
    return serve


@pytest.fixture(name="upstream_app")
def upstream_app_fixture() -> Callable[..., Starlette]:
    """upstream_app(name, health="pass", health_delay=0.0) -> a stand-in service app."""
    return upstream_app


@pytest.fixture
def dead_url() -> str:
    """The URL of a port where nothing listens."""
    return f"http://127.0.0.1:{unused_port()}"
