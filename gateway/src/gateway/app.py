"""The gateway app: its own health and metrics routes, then a catch-all that proxies."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import version as package_version
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Scope

from gateway.health import fleet_health_router
from gateway.identity import IdentityRuntime, identity_routers
from gateway.openapi import MergedOpenAPI, openapi_router
from gateway.pipeline import GatewayPipeline
from gateway.proxy import Proxy, Upstreams
from gateway.ratelimit import Decision, RateLimiter, rate_limit_exceeded_body
from gateway.security import install_security
from gateway.settings import GatewaySettings
from servicekit.errors import install_error_handlers
from servicekit.health import HealthChecks, health_router
from servicekit.metrics import ServiceMetrics, metrics_router
from servicekit.middleware import RequestContextMiddleware

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def rate_limit_response(decision: Decision) -> JSONResponse:
    return JSONResponse(rate_limit_exceeded_body(decision), status_code=429,
                        headers=decision.headers())


def create_app(settings: GatewaySettings, *,
               upstream_transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
               ) -> FastAPI:
    """The gateway. `upstream_transports` replaces the network transport for the services it
    names (embedded mode reaches in-process services through `httpx.ASGITransport`)."""
    version = package_version("gateway")
    upstreams = Upstreams(settings, upstream_transports)
    identity = IdentityRuntime(settings)
    rate_limiter = RateLimiter(settings, key_prefix=settings.rate_limit_key_prefix)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # httpx logs every request at INFO; the access log already has a line per request.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        async with AsyncExitStack() as stack:
            await identity.start()
            stack.push_async_callback(identity.stop)
            await rate_limiter.open()
            stack.push_async_callback(rate_limiter.close)
            await upstreams.open()
            stack.push_async_callback(upstreams.aclose)
            yield

    def authorize(scope: Scope) -> bytes | None:
        """The token a service gets: signed here for the caller, never the caller's own."""
        principal = scope.get("state", {}).get("principal")
        if principal is None:
            return None
        return b"Bearer " + identity.tokens.service_token(principal).encode()

    # The gateway serves the merged fleet document instead of its own (see openapi.py).
    app = FastAPI(title="Smallbatch gateway", version=version, lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None)
    metrics = ServiceMetrics("gateway")
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.health = HealthChecks("gateway", version)
    app.state.health.add("database", identity.ping)
    app.state.upstreams = upstreams
    app.state.identity = identity
    app.state.rate_limiter = rate_limiter
    app.state.rate_limit_response = rate_limit_response
    install_error_handlers(app)
    proxy = Proxy(upstreams, max_body_bytes=settings.max_body_bytes, authorize=authorize)
    # Outermost last: security headers and CORS, then the request id, then identity and limits.
    app.add_middleware(GatewayPipeline, proxy=proxy)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    install_security(app, settings)
    for router in identity_routers():
        app.include_router(router)
    app.include_router(fleet_health_router())
    app.include_router(health_router())
    app.include_router(metrics_router())
    app.include_router(openapi_router(MergedOpenAPI(
        upstreams, title="Smallbatch API", version=version,
        timeout_seconds=settings.health_timeout_seconds, own_document=app.openapi,
    )))
    # Last, so the gateway's own routes win: what the pipeline does not hand to the proxy
    # itself (webhooks, and unknown paths for their 404).
    app.router.routes.append(Route("/{path:path}", proxy, include_in_schema=False))
    return app
