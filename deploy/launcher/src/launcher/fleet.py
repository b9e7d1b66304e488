"""Fleet mode: every service's api and worker, and the gateway, as separate processes.

Databases (one per service) are created if missing and migrated before anything starts.
Ports: the gateway on `port`, service apis on port+1..+5, workers (health and metrics only)
on port+101..+105.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from launcher.components import COMPONENTS, SERVICES, Component
from launcher.keys import ensure_keys
from launcher.supervisor import Supervisor


@dataclass(frozen=True, slots=True)
class FleetConfig:
    postgres_url: str
    amqp_url: str
    redis_url: str
    var_dir: Path
    host: str
    port: int
    db_prefix: str
    namespace: str
    restart_delay: float = 1.0  # before a process that exited is started again (doubling)

    def database_name(self, service: str) -> str:
        return f"{self.db_prefix}{service}"

    def database_url(self, service: str) -> str:
        base = self.postgres_url.rstrip("/").replace("postgresql://", "postgresql+asyncpg://")
        return f"{base}/{self.database_name(service)}"


def url(config: FleetConfig, component: Component) -> str:
    return f"http://{config.host}:{config.port + component.port_offset}"


def service_env(config: FleetConfig, private_key: Path, public_key: Path) -> dict[str, str]:
    env = dict(os.environ)
    for component in SERVICES:
        p = component.env_prefix
        env.update({
            f"{p}DATABASE_URL": config.database_url(component.name),
            f"{p}BROKER_URL": config.amqp_url,
            f"{p}BROKER_NAMESPACE": config.namespace,
            f"{p}JWT_PUBLIC_KEY_FILE": str(public_key),
            f"{p}HOST": config.host,
            f"{p}PORT": str(config.port + component.port_offset),
        })
        env[f"GATEWAY_{component.name.upper()}_URL"] = url(config, component)
        for peer in component.peers:
            env[f"{p}{peer.upper()}_URL"] = url(config, COMPONENTS[peer])
    env.update({
        "GATEWAY_HOST": config.host,
        "GATEWAY_PORT": str(config.port),
        "GATEWAY_REDIS_URL": config.redis_url,
        "GATEWAY_DATABASE_URL": config.database_url("gateway"),
        "GATEWAY_JWT_PRIVATE_KEY_FILE": str(private_key),
    })
    return env


async def create_databases(config: FleetConfig) -> None:
    conn = await asyncpg.connect(f"{config.postgres_url.rstrip('/')}/postgres")
    try:
        existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        for part in (*(c.name for c in SERVICES), "gateway"):
            name = config.database_name(part)
            if name not in existing:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def migrate_all(env: dict[str, str]) -> None:
    names = [*(c.name for c in SERVICES), "gateway"]
    procs = [subprocess.Popen([sys.executable, "-m", name, "migrate"], env=env) for name in names]
    failed = [name for name, p in zip(names, procs, strict=True) if p.wait() != 0]
    if failed:
        raise SystemExit(f"migrations failed for: {', '.join(failed)}")


def run_fleet(config: FleetConfig) -> int:
    """Start every process and keep them running (one that exits is started again, see
    launcher.supervisor) until SIGINT/SIGTERM."""
    import asyncio

    private_key, public_key = ensure_keys(config.var_dir / "keys")
    asyncio.run(create_databases(config))
    env = service_env(config, private_key, public_key)
    migrate_all(env)
    commands: list[tuple[str, list[str]]] = []
    for c in SERVICES:
        commands.append((f"{c.name}-api", [sys.executable, "-m", c.name, "api"]))
        commands.append((f"{c.name}-worker", [sys.executable, "-m", c.name, "worker", "--port",
                                              str(config.port + 100 + c.port_offset)]))
    commands.append(("gateway", [sys.executable, "-m", "gateway"]))
    supervisor = Supervisor(config.var_dir, env, restart_delay=config.restart_delay)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    supervisor.start(commands)
    try:
        while not stopping:
            supervisor.tick()
            time.sleep(0.2)
    finally:
        supervisor.stop()
    return 0
