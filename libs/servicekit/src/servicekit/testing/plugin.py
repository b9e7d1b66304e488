"""The pytest plugin every Smallbatch package gets (registered as the `servicekit` entry point).

Fixtures:
- `postgres_databases`: creates throw-away PostgreSQL databases for this run, migrated with
  alembic, dropped at the end.
- `broker_namespace`: a prefix for exchange and queue names unique to this run.
- `token_keys` / `mint_token`: a test key pair and tokens signed with it, as the gateway would.
- `eventually`: poll an assertion until it holds.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from servicekit.identity import TokenSigner, generate_keypair
from servicekit.migrations import upgrade_database
from servicekit.testing.servers import AMQP_URL, POSTGRES_URL, require_server

T = TypeVar("T")
RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"


class PostgresDatabases:
    """Creates databases named `sb_<run>_<name>` on the test server and drops them later."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def async_url(self, name: str) -> str:
        base = self.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return f"{base}/{name}"

    async def create(self, name: str, migrations_dir: Path | None = None) -> str:
        """A new, empty (or migrated) database; returns its SQLAlchemy async URL."""
        db_name = f"sb_{RUN_ID}_{name}_{len(self.created)}".lower()
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{db_name}"')
        finally:
            await conn.close()
        self.created.append(db_name)
        url = self.async_url(db_name)
        if migrations_dir is not None:
            await asyncio.to_thread(upgrade_database, migrations_dir, url)
        return url

    async def drop_all(self) -> None:
        conn = await asyncpg.connect(self.admin_url)
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
        self.created.clear()


@pytest.fixture(scope="session")
async def postgres_databases() -> AsyncIterator[PostgresDatabases]:
    require_server("PostgreSQL", POSTGRES_URL)
    databases = PostgresDatabases(POSTGRES_URL)
    yield databases
    await databases.drop_all()


@pytest.fixture(scope="session")
def amqp_url() -> str:
    require_server("RabbitMQ", AMQP_URL)
    return AMQP_URL


@pytest.fixture
def broker_namespace() -> str:
    """A namespace for exchange and queue names that no other test or run shares."""
    return f"t{RUN_ID}.{uuid.uuid4().hex[:6]}."


@pytest.fixture(scope="session")
def token_keys() -> tuple[str, str]:
    """(private PEM, public PEM) standing in for the gateway's signing key."""
    return generate_keypair()


@pytest.fixture(scope="session")
def token_signer(token_keys: tuple[str, str]) -> TokenSigner:
    return TokenSigner(token_keys[0])


@pytest.fixture(scope="session")
def mint_token(token_signer: TokenSigner) -> Callable[..., str]:
    """mint_token(org_id=..., role="owner", user_id=...) -> a token the services accept."""

    def mint(org_id: uuid.UUID | str | None = None, role: str = "owner",
             user_id: str | None = None, **extra: Any) -> str:
        return token_signer.sign(user_id=user_id or str(uuid.uuid4()),
                                 org_id=org_id or uuid.uuid4(), role=role, **extra)  # type: ignore[arg-type]

    return mint


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 10.0,  # noqa: ASYNC109
                     interval: float = 0.05) -> T:
    """Await `check()` until it returns without raising (its value is returned) or `timeout`
    passes (the last AssertionError is raised)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        await asyncio.sleep(interval)


@pytest.fixture(name="eventually")
def eventually_fixture() -> Callable[..., Awaitable[Any]]:
    return eventually
