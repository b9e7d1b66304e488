"""Embedded mode: the whole fleet in one process, SQLite files, the in-process transport.

Each service keeps its own app, database file, outbox, inbox and consumer; only the transport
is shared, and the gateway reaches the services through in-process ASGI calls.
"""

from __future__ import annotations

import asyncio
import os
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import structlog
import uvicorn

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from launcher.components import SERVICES
from launcher.keys import ensure_keys
from servicekit.messaging.memory import InMemoryTransport
from servicekit.migrations import upgrade_database

logger = structlog.get_logger("launcher.embedded")


async def serve_embedded(var_dir: Path, host: str, port: int) -> None:
    var_dir = Path(os.path.abspath(var_dir))
    _, public_key = ensure_keys(var_dir / "keys")
    transport = InMemoryTransport()
    await transport.connect()
    apps = {}
    for component in SERVICES:
        settings = component.settings_class(
            database_url=f"sqlite+aiosqlite:///{var_dir / component.name}.db",
            broker_url="memory://",
            jwt_public_key_file=public_key,
            log_json=False,
        )
        await asyncio.to_thread(upgrade_database, component.migrations_dir,
                                settings.database_url)
        apps[component.name] = component.create_app(settings, role="all", transport=transport)
    gateway = create_gateway(
        GatewaySettings(host=host, port=port),
        upstream_transports={name: httpx.ASGITransport(app=app) for name, app in apps.items()},
    )
    async with AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        stack.push_async_callback(transport.close)
        logger.info("embedded fleet ready", url=f"http://{host}:{port}", var_dir=str(var_dir))
        config = uvicorn.Config(gateway, host=host, port=port, log_config=None,
                                access_log=False, lifespan="on")
        await uvicorn.Server(config).serve()
