"""Building a service: its runtime (database, transport, relay, consumer) and its FastAPI app.

    def create_app(settings: InventorySettings, **options) -> FastAPI:
        return create_service_app(settings, title="Inventory", routers=[api.router],
                                  handlers=handlers.registry, **options)

Roles: `api` serves HTTP and relays the outbox; `worker` consumes events and relays (and serves
only health and metrics); `all` does everything in one process (embedded mode and tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Literal

import structlog
from fastapi import APIRouter, Depends, FastAPI

from servicekit.admin import admin_router
from servicekit.db import Database
from servicekit.errors import install_error_handlers
from servicekit.health import CheckResult, HealthChecks, health_router
from servicekit.identity import TokenVerifier, current_caller
from servicekit.messaging import create_transport
from servicekit.messaging.consumer import EventConsumer
from servicekit.messaging.handlers import HandlerRegistry
from servicekit.messaging.relay import OutboxRelay, backlog
from servicekit.messaging.transport import Transport
from servicekit.metrics import ServiceMetrics, metrics_router
from servicekit.middleware import RequestContextMiddleware
from servicekit.settings import ServiceSettings

Role = Literal["api", "worker", "all"]
logger = structlog.get_logger("servicekit.app")


class ServiceRuntime:
    """Everything a service process runs besides its routes."""

    def __init__(self, settings: ServiceSettings, *, handlers: HandlerRegistry | None = None,
                 role: Role = "all", transport: Transport | None = None,
                 version: str = "0.1.0") -> None:
        self.settings = settings
        self.role = role
        self.metrics = ServiceMetrics(settings.service_name)
        self.db = Database.from_settings(settings)
        self._owns_transport = transport is None
        self.transport = transport or create_transport(settings)
        self.relay = OutboxRelay(
            self.db, self.transport, batch_size=settings.outbox_batch_size,
            poll_interval=settings.outbox_poll_interval_seconds, metrics=self.metrics,
        )
        self.consumer: EventConsumer | None = None
        if handlers and role in ("worker", "all"):
            self.consumer = EventConsumer(
                self.db, self.transport, f"{settings.service_name}.events", handlers,
                max_attempts=settings.consumer_max_attempts,
                retry_delays=settings.consumer_retry_delays, metrics=self.metrics,
            )
        self.health = HealthChecks(settings.service_name, version)
        self.health.add("database", self._check_database)
        self.health.add("broker", self._check_broker)
        self.health.add("outbox", self._check_outbox)
        self._connector: asyncio.Task[None] | None = None

    async def start(self, connect_timeout: float = 10.0) -> None:
        """Connect to the broker (in the background if it is away), start relay and consumer."""
        self._connector = asyncio.create_task(self._connect_and_subscribe())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(connect_timeout):
                await asyncio.shield(self._connector)
        self.relay.start()

    async def stop(self) -> None:
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        await self.relay.stop()
        if self._owns_transport:
            await self.transport.close()
        await self.db.dispose()

    async def _connect_and_subscribe(self) -> None:
        delay = 0.5
        while self._owns_transport and not self.transport.is_connected:
            try:
                await self.transport.connect()
            except Exception as exc:
                logger.warning("broker unreachable; retrying", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 15.0)
        if self.consumer is not None:
            await self.consumer.start()

    async def _check_database(self) -> CheckResult:
        await self.db.ping()
        return CheckResult("pass")

    async def _check_broker(self) -> CheckResult:
        if self.transport.is_connected:
            return CheckResult("pass")
        # The api still accepts writes while the broker is away: the outbox holds the events.
        return CheckResult("warn", output="broker connection is down; events wait in the outbox")

    async def _check_outbox(self) -> CheckResult:
        count, age = await backlog(self.db)
        status = "pass"
        if age >= self.settings.outbox_fail_age_seconds:
            status = "fail"
        elif age >= self.settings.outbox_warn_age_seconds:
            status = "warn"
        return CheckResult(status, observed_value=round(age, 3), observed_unit="s",
                           output=f"{count} unpublished events")


def create_service_app(settings: ServiceSettings, *, title: str,
                       routers: Sequence[APIRouter] = (),
                       handlers: HandlerRegistry | None = None, role: Role = "all",
                       transport: Transport | None = None, version: str = "0.1.0",
                       description: str = "",
                       on_start: Sequence[Callable[[FastAPI], Awaitable[None]]] = (),
                       on_stop: Sequence[Callable[[FastAPI], Awaitable[None]]] = ()) -> FastAPI:
    """A service's FastAPI app with the fleet's errors, identity, health, metrics and events.

    Every router given here requires the gateway's token; health and metrics do not.
    `on_start` callbacks run once the runtime has started, `on_stop` ones when the app shuts
    down, before the runtime stops (a service's own listeners and clients).
    """
    runtime = ServiceRuntime(settings, handlers=handlers, role=role, transport=transport,
                             version=version)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        # What start-up made (modules, the app, its routes) lives as long as the process:
        # moved out of the collector's sight, it no longer lengthens every full collection.
        gc.freeze()
        for start in on_start:
            await start(app)
        try:
            yield
        finally:
            for stop in on_stop:
                await stop(app)
            await runtime.stop()

    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan)
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.db = runtime.db
    app.state.metrics = runtime.metrics
    app.state.health = runtime.health
    app.state.token_verifier = TokenVerifier(
        settings.public_key_pem(), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, metrics=runtime.metrics)
    app.include_router(health_router())
    app.include_router(metrics_router())
    app.include_router(admin_router())
    if role in ("api", "all"):
        for router in routers:
            app.include_router(router, dependencies=[Depends(current_caller)])
    return app
