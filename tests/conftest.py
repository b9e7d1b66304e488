"""Fleet-level fixtures: the whole fleet as real processes on the local servers.

The fleet runs with its own databases (a per-run prefix), its own broker namespace, its own
ports and its own key pair, so runs never collide with each other or with a developer's fleet.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from launcher.supervisor import HOLD_DIR, PIDS_FILE
from servicekit.testing.servers import AMQP_URL, POSTGRES_URL, REDIS_URL, require_server

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Fleet:
    base_url: str
    port: int
    var_dir: Path
    db_prefix: str
    namespace: str
    process: subprocess.Popen[bytes]

    def gateway_env(self) -> dict[str, str]:
        """The environment a further gateway process of this fleet needs."""
        env = dict(os.environ)
        for offset, service in enumerate(
                ("inventory", "recipes", "batches", "forecasting", "integrations"), start=1):
            env[f"GATEWAY_{service.upper()}_URL"] = f"http://127.0.0.1:{self.port + offset}"
        base = POSTGRES_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        env.update({
            "GATEWAY_DATABASE_URL": f"{base}/{self.db_prefix}gateway",
            "GATEWAY_JWT_PRIVATE_KEY_FILE": str(self.var_dir / "keys" / "private.pem"),
            "GATEWAY_REDIS_URL": REDIS_URL,
        })
        return env

    def pids(self) -> dict[str, int]:
        """The launcher's running processes by name (`inventory-worker`, `gateway`...)."""
        path = self.var_dir / PIDS_FILE
        return json.loads(path.read_text()) if path.exists() else {}  # type: ignore[no-any-return]

    @contextlib.contextmanager
    def down(self, name: str, timeout: float = 30) -> Iterator[None]:
        """`name` killed (SIGKILL) and kept down for the block; started again by the launcher
        afterwards, and waited for."""
        hold = self.var_dir / HOLD_DIR / name
        hold.touch()
        try:
            pid = self.pids()[name]
            os.kill(pid, signal.SIGKILL)
            _wait(lambda: name not in self.pids(), timeout, f"{name} to be down")
            yield
        finally:
            hold.unlink(missing_ok=True)
        _wait(lambda: self.pids().get(name, pid) != pid, timeout, f"{name} to start again")



def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(0.1)


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the fleet exited with {process.returncode} while starting")
        try:
            response = httpx.get(f"{base_url}/health", timeout=2)
            if response.status_code == 200 and response.json()["status"] == "pass":
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise RuntimeError(f"the fleet did not become healthy in {timeout}s: {last}")


async def _drop_databases(prefix: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        names = [r["datname"] for r in await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{prefix}%")]
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory,
          request: pytest.FixtureRequest) -> Iterator[Fleet]:
    require_server("PostgreSQL", POSTGRES_URL)
    require_server("RabbitMQ", AMQP_URL)
    require_server("Redis", REDIS_URL)
    run = uuid.uuid4().hex[:8]
    port = random.randrange(20000, 40000, 200)
    var_dir = tmp_path_factory.mktemp("fleet")
    db_prefix = f"sbf_{run}_"
    namespace = f"f{run}."
    env = dict(os.environ)
    env.update({
        "SMALLBATCH_VAR_DIR": str(var_dir),
        "SMALLBATCH_PORT": str(port),
        "SMALLBATCH_DB_PREFIX": db_prefix,
        "SMALLBATCH_BROKER_NAMESPACE": namespace,
        "SMALLBATCH_POSTGRES_URL": POSTGRES_URL.rsplit("/", 1)[0],
        "SMALLBATCH_AMQP_URL": AMQP_URL,
        "SMALLBATCH_REDIS_URL": REDIS_URL,
        # Tests sign up many organizations from one address: room for them, and counters
        # of this run's own (test_fleet_limits starts gateways with the real limits).
        "GATEWAY_RATE_LIMIT_SCALE": "50",
        "GATEWAY_RATE_LIMIT_KEY_PREFIX": f"sbf:{run}",
    })
    log = (var_dir / "fleet.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "launcher", "fleet"], env=env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    fleet = Fleet(f"http://127.0.0.1:{port}", port, var_dir, db_prefix, namespace, process)
    try:
        _wait_healthy(fleet.base_url, process, timeout=120)
        yield fleet
    except Exception:
        log.flush()
        sys.stderr.write((var_dir / "fleet.log").read_text()[-5000:])
        raise
    finally:
        if request.session.testsfailed:
            log.flush()
            _report_errors(var_dir / "fleet.log")
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        import asyncio

        asyncio.run(_drop_databases(db_prefix))
        asyncio.run(_delete_broker_namespace(namespace))


def _report_errors(path: Path, limit: int = 20_000) -> None:
    """The fleet's error log lines and tracebacks, for a run that failed (the log itself
    goes with the temporary directory)."""
    kept, inside = [], False
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("Traceback"):
            inside = True
        if inside or '"level": "error"' in line or '"level":"error"' in line:
            kept.append(line)
        if inside and line and not line.startswith((" ", "Traceback")):
            inside = False
    text = "\n".join(kept)[-limit:]
    sys.stderr.write(f"\n--- errors in the fleet's log ({path}) ---\n{text}\n")


async def _delete_broker_namespace(namespace: str) -> None:
    from servicekit.testing.broker import delete_namespace

    await delete_namespace(AMQP_URL, namespace)


@pytest.fixture
async def gateway(fleet: Fleet) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fleet.base_url, timeout=15) as client:
        yield client


async def register_organization(gateway: httpx.AsyncClient, name: str = "Lye & Larch Soaps",
                                ) -> dict[str, str]:
    """Register a new organization through the gateway; its owner's auth headers."""
    response = await gateway.post("/api/v1/auth/register", json={
        "organization_name": name, "email": f"owner-{uuid.uuid4().hex[:12]}@example.com",
        "password": "correct horse battery", "first_name": "Ada", "last_name": "Lovelace",
    })
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def owner(gateway: httpx.AsyncClient) -> dict[str, str]:
    """Auth headers of the owner of a freshly registered organization."""
    return await register_organization(gateway)


@pytest.fixture
async def other_owner(gateway: httpx.AsyncClient) -> dict[str, str]:
    """Auth headers of the owner of another organization."""
    return await register_organization(gateway, "Wick & Wax Candles")
