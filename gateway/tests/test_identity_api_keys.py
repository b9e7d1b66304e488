"""API keys: made by owners, shown once, stored hashed, recognised by prefix, revoked and
regenerated; a key acts for its organization and never above its creator."""

import hashlib
import uuid

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from gateway.identity.models import ApiKey
from gateway.identity.testing import bearer, identity_fixtures, member, register

identity_app, identity_client = identity_fixtures()


async def create_key(client: httpx.AsyncClient, token: str, **body: object) -> dict:
    response = await client.post("/api/v1/api-keys", headers=bearer(token),
                                 json={"name": "Shopify sync", **body})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_key_is_shown_once_works_as_x_api_key_and_is_listed_by_prefix(
    identity_app: FastAPI, identity_client: httpx.AsyncClient,
) -> None:
    owner = await register(identity_client)
    created = await create_key(identity_client, owner["access_token"],
                               scopes=["inventory:read", "batches:write"], role="manager")
    secret = created["key"]
    assert secret.startswith("sb_live_") and len(secret) == 8 + 43
    assert created["prefix"] == secret[:16]
    assert (created["role"], created["scopes"], created["revoked"]) == (
        "manager", ["batches:write", "inventory:read"], False)

    principal = await identity_app.state.identity.authenticator.authenticate(
        {"x-api-key": secret})
    assert (principal.kind, principal.subject_id, principal.org_id, principal.role) == (
        "api_key", uuid.UUID(created["id"]), uuid.UUID(owner["organization"]["id"]), "manager")
    assert principal.scopes == {"inventory:read", "batches:write"}
    dashboard = await identity_client.get("/api/v1/organization/dashboard",
                                          headers={"x-api-key": secret})
    assert dashboard.status_code == 200

    listed = (await identity_client.get("/api/v1/api-keys",
                                        headers=bearer(owner["access_token"]))).json()
    [item] = listed["items"]
    assert item["prefix"] == created["prefix"] and item["last_used_at"] is not None
    assert "key" not in item and secret not in str(listed)
    async with identity_app.state.identity.db.sessionmaker() as session:
        stored = await session.get(ApiKey, uuid.UUID(created["id"]))
    assert stored is not None
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()


async def test_a_revoked_key_is_refused_at_once(identity_client: httpx.AsyncClient) -> None:
    owner = await register(identity_client)
    created = await create_key(identity_client, owner["access_token"])
    key_auth = {"x-api-key": created["key"]}
    assert (await identity_client.get("/api/v1/organization/dashboard",
                                      headers=key_auth)).status_code == 200
    revoked = await identity_client.delete(f"/api/v1/api-keys/{created['id']}",
                                           headers=bearer(owner["access_token"]))
    assert revoked.status_code == 204
    refused = await identity_client.get("/api/v1/organization/dashboard", headers=key_auth)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "API key is invalid or revoked"
    listed = (await identity_client.get("/api/v1/api-keys",
                                        headers=bearer(owner["access_token"]))).json()
    assert listed["items"][0]["revoked"] is True


async def test_regenerating_a_key_replaces_its_secret(identity_client: httpx.AsyncClient) -> None:
    owner = await register(identity_client)
    created = await create_key(identity_client, owner["access_token"])
    await identity_client.get("/api/v1/organization/dashboard",
                              headers={"x-api-key": created["key"]})
    response = await identity_client.post(f"/api/v1/api-keys/{created['id']}/regenerate",
                                          headers=bearer(owner["access_token"]))
    assert response.status_code == 200
    regenerated = response.json()
    assert (regenerated["id"], regenerated["name"]) == (created["id"], created["name"])
    assert regenerated["key"] != created["key"]
    assert (await identity_client.get("/api/v1/organization/dashboard", headers={
        "x-api-key": created["key"]})).status_code == 401
    assert (await identity_client.get("/api/v1/organization/dashboard", headers={
        "x-api-key": regenerated["key"]})).status_code == 200


async def test_an_unknown_or_malformed_key_is_refused(
    identity_client: httpx.AsyncClient,
) -> None:
    for key in ("sb_live_" + "A" * 43, "hello"):
        response = await identity_client.get("/api/v1/organization/dashboard",
                                             headers={"x-api-key": key})
        assert response.status_code == 401


async def test_only_owners_signed_in_as_users_manage_keys(
    identity_client: httpx.AsyncClient,
) -> None:
    owner = await register(identity_client)
    manager = await member(identity_client, owner["access_token"], "manager")
    assert (await identity_client.post("/api/v1/api-keys", headers=bearer(
        manager["access_token"]), json={"name": "x"})).status_code == 403
    assert (await identity_client.get("/api/v1/api-keys", headers=bearer(
        manager["access_token"]))).status_code == 403
    owner_key = await create_key(identity_client, owner["access_token"], role="owner")
    by_key = await identity_client.post("/api/v1/api-keys", json={"name": "y"},
                                        headers={"x-api-key": owner_key["key"]})
    assert by_key.status_code == 403


async def test_a_key_acts_with_no_more_than_its_creator_has_now(
    identity_app: FastAPI, identity_client: httpx.AsyncClient,
) -> None:
    owner = await register(identity_client)
    second = await member(identity_client, owner["access_token"], "owner")
    created = await create_key(identity_client, second["access_token"], role="owner")
    await identity_client.put(f"/api/v1/users/{second['user']['id']}/role",
                              headers=bearer(owner["access_token"]), json={"role": "operator"})
    principal = await identity_app.state.identity.authenticator.authenticate(
        {"x-api-key": created["key"]})
    assert principal.role == "operator"

    await identity_client.post(f"/api/v1/users/{second['user']['id']}/deactivate",
                               headers=bearer(owner["access_token"]))
    assert (await identity_client.get("/api/v1/organization/dashboard", headers={
        "x-api-key": created["key"]})).status_code == 401


async def test_another_organizations_key_is_not_found(
    identity_client: httpx.AsyncClient,
) -> None:
    ours = await register(identity_client)
    theirs = await register(identity_client)
    their_key = await create_key(identity_client, theirs["access_token"])
    auth = bearer(ours["access_token"])
    for method, path in [("GET", f"/api/v1/api-keys/{their_key['id']}"),
                         ("DELETE", f"/api/v1/api-keys/{their_key['id']}"),
                         ("POST", f"/api/v1/api-keys/{their_key['id']}/regenerate")]:
        response = await identity_client.request(method, path, headers=auth)
        assert response.status_code == 404, path
    assert (await identity_client.get("/api/v1/organization/dashboard", headers={
        "x-api-key": their_key["key"]})).status_code == 200


async def test_a_key_cannot_hold_the_platform_admin_scope_or_malformed_ones(
    identity_client: httpx.AsyncClient,
) -> None:
    owner = await register(identity_client)
    for scopes in (["platform:admin"], ["Not A Scope"]):
        response = await identity_client.post("/api/v1/api-keys",
                                              headers=bearer(owner["access_token"]),
                                              json={"name": "x", "scopes": scopes})
        assert response.status_code == 422


async def test_using_a_key_touches_last_used_at_at_most_once_a_minute(
    identity_app: FastAPI, identity_client: httpx.AsyncClient,
) -> None:
    owner = await register(identity_client)
    created = await create_key(identity_client, owner["access_token"])
    authenticator = identity_app.state.identity.authenticator
    await authenticator.authenticate({"x-api-key": created["key"]})
    async with identity_app.state.identity.db.sessionmaker() as session:
        first = await session.scalar(sa.select(ApiKey.last_used_at).where(
            ApiKey.id == uuid.UUID(created["id"])))
    authenticator.forget_api_key(uuid.UUID(created["id"]))  # force a database lookup
    await authenticator.authenticate({"x-api-key": created["key"]})
    async with identity_app.state.identity.db.sessionmaker() as session:
        second = await session.scalar(sa.select(ApiKey.last_used_at).where(
            ApiKey.id == uuid.UUID(created["id"])))
    assert first is not None and second == first
