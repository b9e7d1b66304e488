"""Embedded mode: identity on a SQLite file, migrated with alembic, end to end."""

import asyncio
from pathlib import Path

from gateway.identity import MIGRATIONS_DIR
from gateway.identity.testing import (
    PASSWORD,
    bearer,
    identity_test_app,
    new_email,
    register,
    running,
)
from gateway.settings import GatewaySettings
from servicekit.migrations import upgrade_database


async def test_sign_up_sign_in_rotate_and_use_a_key_on_sqlite(
    tmp_path: Path, token_keys: tuple[str, str],
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    await asyncio.to_thread(upgrade_database, MIGRATIONS_DIR, url)
    app = identity_test_app(GatewaySettings(database_url=url, jwt_private_key=token_keys[0]))
    async with running(app) as client:
        email = new_email()
        await register(client, email=email)
        login = (await client.post("/api/v1/auth/login",
                                   json={"email": email.upper(), "password": PASSWORD})).json()
        me = await client.get("/api/v1/users/me", headers=bearer(login["access_token"]))
        assert me.json()["email"] == email

        rotated = await client.post("/api/v1/auth/refresh",
                                    json={"refresh_token": login["refresh_token"]})
        assert rotated.status_code == 200
        reused = await client.post("/api/v1/auth/refresh",
                                   json={"refresh_token": login["refresh_token"]})
        assert reused.status_code == 401

        key = (await client.post("/api/v1/api-keys", headers=bearer(login["access_token"]),
                                 json={"name": "Shop", "scopes": ["inventory:read"]})).json()
        dashboard = await client.get("/api/v1/organization/dashboard",
                                     headers={"x-api-key": key["key"]})
        assert dashboard.status_code == 200
        assert dashboard.json()["organization"]["active_users_count"] == 1
