"""The gateway app: its own health and metrics routes, then a catch-all that proxies."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from importlib.metadata import version as package_version

import httpx
from fastapi import FastAPI
from starlette.routing import Route

from gateway.health import fleet_health_router
from gateway.openapi import MergedOpenAPI, openapi_router
from gateway.proxy import Proxy, Upstreams
from gateway.settings import GatewaySettings
from servicekit.errors import install_error_handlers
from servicekit.health import HealthChecks, health_router
from servicekit.metrics import ServiceMetrics, metrics_router
from servicekit.middleware import RequestContextMiddleware


def create_app(settings: GatewaySettings, *,
               upstream_transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
               ) -> FastAPI:
    """The gateway. `upstream_transports` replaces the network transport for the services it
    names (embedded mode reaches in-process services through `httpx.ASGITransport`)."""
    version = package_version("gateway")
    upstreams = Upstreams(settings, upstream_transports)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # httpx logs every request at INFO; the access log already has a line per request.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        await upstreams.open()
        try:
            yield
        finally:
            await upstreams.aclose()

    # The gateway serves the merged fleet document instead of its own (see openapi.py).
    app = FastAPI(title="Smallbatch gateway", version=version, lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None)
    metrics = ServiceMetrics("gateway")
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.health = HealthChecks("gateway", version)
    app.state.upstreams = upstreams
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.include_router(fleet_health_router())
    app.include_router(health_router())
    app.include_router(metrics_router())
    app.include_router(openapi_router(MergedOpenAPI(
        upstreams, title="Smallbatch API", version=version,
        timeout_seconds=settings.health_timeout_seconds,
    )))
    # Last, so the gateway's own routes win; any method, and no per-request pydantic work.
    app.router.routes.append(
        Route("/{path:path}", Proxy(upstreams, max_body_bytes=settings.max_body_bytes),
              include_in_schema=False)
    )
    return app
