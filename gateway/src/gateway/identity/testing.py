"""Driving identity in tests: the gateway app on a migrated database, its fixtures, and a few
shortcuts.

    identity_app, identity_client = identity_fixtures()      # in a test module

One migrated PostgreSQL database and one app per test module; tests keep apart by
registering organizations of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.identity import MIGRATIONS_DIR, TokenIssuer, service
from gateway.settings import GatewaySettings
from servicekit.testing.plugin import PostgresDatabases

PASSWORD = "correct horse battery"


def identity_test_app(settings: GatewaySettings) -> FastAPI:
    """The real gateway, with rate limits off so tests may sign in as often as they like."""
    from gateway.app import create_app

    return create_app(settings.model_copy(update={"rate_limits_enabled": False}))


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        yield client


def identity_fixtures() -> tuple[Any, Any]:
    """The `identity_app` (per module, on its own migrated PostgreSQL database) and
    `identity_client` fixtures."""

    @pytest.fixture(scope="module", name="identity_app")
    async def identity_app_fixture(postgres_databases: PostgresDatabases,
                                   token_keys: tuple[str, str]) -> AsyncIterator[FastAPI]:
        url = await postgres_databases.create("gateway", MIGRATIONS_DIR)
        app = identity_test_app(GatewaySettings(database_url=url, jwt_private_key=token_keys[0]))
        async with app.router.lifespan_context(app):
            yield app

    @pytest.fixture(name="identity_client")
    async def identity_client_fixture(identity_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=identity_app),
                                     base_url="http://gateway") as client:
            yield client

    return identity_app_fixture, identity_client_fixture


def new_email() -> str:
    return f"maker-{uuid.uuid4().hex[:12]}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """Register a fresh organization and its owner; the 201 body."""
    body = {"organization_name": "Lye & Larch Soaps", "email": new_email(),
            "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace", **overrides}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def member(client: httpx.AsyncClient, owner_token: str, role: str) -> dict[str, Any]:
    """Invite a member with `role` and sign them in; the login body, plus their `password`."""
    invited = await client.post("/api/v1/organization/invite-user", headers=bearer(owner_token),
                                json={"email": new_email(), "first_name": "Grace",
                                      "last_name": "Hopper", "role": role})
    assert invited.status_code == 201, invited.text
    data = invited.json()["data"]
    login = await client.post("/api/v1/auth/login", json={
        "email": data["username"], "password": data["temporary_password"]})
    assert login.status_code == 200, login.text
    return {**login.json(), "password": data["temporary_password"]}


async def make_platform_admin(app: FastAPI, email: str) -> None:
    async with app.state.identity.db.unit_of_work() as uow:
        await service.set_platform_admin(uow, email)


def access_token(settings: GatewaySettings, *, org_id: uuid.UUID | None = None,
                 role: str = "owner", plan: str = "free") -> str:
    """An access token as login would issue it, for a user who need not exist."""
    user = SimpleNamespace(id=uuid.uuid4(), role=role, is_platform_admin=False)
    org = SimpleNamespace(id=org_id or uuid.uuid4(), plan=plan)
    return TokenIssuer(settings).access_token(user, org)  # type: ignore[arg-type]
