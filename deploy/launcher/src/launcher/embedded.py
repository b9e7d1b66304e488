"""Embedded mode: the whole fleet in one process, SQLite files, the in-process transport.

Each service keeps its own app, database file, outbox, inbox and consumer; only the transport
is shared, and the gateway reaches the services through in-process ASGI calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import structlog
import uvicorn
from fastapi import FastAPI

from gateway.app import MIGRATIONS_DIR as GATEWAY_MIGRATIONS_DIR
from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from launcher.components import SERVICES
from launcher.demo import DEMO_EMAIL, DEMO_PASSWORD, DemoSeeder
from servicekit.messaging.memory import InMemoryTransport
from servicekit.migrations import upgrade_database

logger = structlog.get_logger("launcher.embedded")


@asynccontextmanager
async def embedded_fleet(var_dir: Path, host: str = "127.0.0.1",
                         port: int = 8000) -> AsyncIterator[FastAPI]:
    """Migrate and start every service in this process; yield the gateway app to serve.

    `var_dir` (absolute) holds one SQLite file per service and the gateway, and the key pair
    in `keys/` (see launcher.keys.ensure_keys).
    """
    private_key, public_key = var_dir / "keys" / "private.pem", var_dir / "keys" / "public.pem"
    transport = InMemoryTransport()
    await transport.connect()
    apps: dict[str, FastAPI] = {}
    for component in SERVICES:
        settings = component.settings_class(
            database_url=f"sqlite+aiosqlite:///{var_dir / component.name}.db",
            broker_url="memory://",
            jwt_public_key_file=public_key,
        )
        await asyncio.to_thread(upgrade_database, component.migrations_dir,
                                settings.database_url)
        peers = {f"{peer}_transport": httpx.ASGITransport(app=apps[peer])
                 for peer in component.peers}
        apps[component.name] = component.create_app(settings, role="all", transport=transport,
                                                     **peers)
    gateway_settings = GatewaySettings(
        host=host, port=port, database_url=f"sqlite+aiosqlite:///{var_dir / 'gateway.db'}",
        jwt_private_key_file=private_key, redis_url=None,
    )
    await asyncio.to_thread(upgrade_database, GATEWAY_MIGRATIONS_DIR,
                            gateway_settings.database_url)
    gateway = create_gateway(
        gateway_settings,
        upstream_transports={name: httpx.ASGITransport(app=app) for name, app in apps.items()},
    )
    async with AsyncExitStack() as stack:
        stack.push_async_callback(transport.close)
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield gateway


async def serve_embedded(var_dir: Path, host: str, port: int, *, demo: bool = True) -> None:
    """Serve the embedded fleet on http://host:port until stopped; seed the demo organization
    on a fresh `var_dir`."""
    async with embedded_fleet(var_dir, host, port) as app:
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                                lifespan="on")
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn has no event)
            await asyncio.sleep(0.05)
        if demo and server.started:
            base_url = f"http://{host}:{port}"
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                if await DemoSeeder(client).seed():
                    logger.info("demo organization created", email=DEMO_EMAIL,
                                password=DEMO_PASSWORD)
        logger.info("embedded fleet ready", url=f"http://{host}:{port}", var_dir=str(var_dir),
                    demo_login=f"{DEMO_EMAIL} / {DEMO_PASSWORD}" if demo else None)
        await serving
