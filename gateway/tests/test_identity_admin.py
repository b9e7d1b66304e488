"""Platform admins: list organizations, act in another organization's context, and every such
action is audited."""

import uuid

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from gateway.identity.models import AuditEvent
from gateway.identity.testing import (
    PASSWORD,
    bearer,
    identity_fixtures,
    make_platform_admin,
    register,
)

identity_app, identity_client = identity_fixtures()


@pytest.fixture
async def admin(identity_app: FastAPI, identity_client: httpx.AsyncClient) -> dict:
    """A platform admin (of their own small organization), signed in after being made one."""
    registered = await register(identity_client, organization_name="Smallbatch staff")
    await make_platform_admin(identity_app, registered["user"]["email"])
    login = await identity_client.post("/api/v1/auth/login", json={
        "email": registered["user"]["email"], "password": PASSWORD})
    return login.json()


async def audit_trail(app: FastAPI, org_id: str) -> list[AuditEvent]:
    async with app.state.identity.db.sessionmaker() as session:
        return list((await session.scalars(
            sa.select(AuditEvent).where(AuditEvent.org_id == uuid.UUID(org_id))
            .order_by(AuditEvent.created_at))).all())


async def test_a_platform_admin_lists_organizations(identity_client: httpx.AsyncClient,
                                                    admin: dict) -> None:
    await register(identity_client, organization_name="Zebra Bakes")
    response = await identity_client.get("/api/v1/admin/organizations?search=zebra&per_page=100",
                                         headers=bearer(admin["access_token"]))
    assert response.status_code == 200
    page = response.json()
    assert page["total"] >= 1
    assert {o["name"] for o in page["items"]} == {"Zebra Bakes"}
    assert page["items"][0]["users_count"] == 1


async def test_a_platform_admin_acts_in_another_organization_and_it_is_audited(
    identity_app: FastAPI, identity_client: httpx.AsyncClient, admin: dict,
) -> None:
    maker = await register(identity_client, organization_name="Soap Kitchen")
    maker_org = maker["organization"]["id"]
    switched = await identity_client.post("/api/v1/admin/switch-organization",
                                          headers=bearer(admin["access_token"]),
                                          json={"organization_id": maker_org})
    assert switched.status_code == 200
    body = switched.json()
    assert (body["organization"]["id"], body["role"], body["acting_for"]) == (
        maker_org, "owner", admin["organization"]["id"])

    acting = bearer(body["access_token"])
    me = (await identity_client.get("/api/v1/users/me", headers=acting)).json()
    assert (me["id"], me["organization"]["id"], me["acting_for"], me["role"]) == (
        admin["user"]["id"], maker_org, admin["organization"]["id"], "owner")
    dashboard = await identity_client.get("/api/v1/organization/dashboard", headers=acting)
    assert dashboard.json()["organization"]["name"] == "Soap Kitchen"

    trail = await audit_trail(identity_app, maker_org)
    switch = next(e for e in trail if e.action == "admin.organization_switched")
    assert (switch.actor_user_id, switch.actor_org_id) == (
        uuid.UUID(admin["user"]["id"]), uuid.UUID(admin["organization"]["id"]))
    requests = [e.target for e in trail if e.action == "admin.request"]
    assert requests == ["GET /api/v1/users/me", "GET /api/v1/organization/dashboard"]


async def test_the_owner_sees_a_platform_admins_visit_in_their_audit_trail(
    identity_client: httpx.AsyncClient, admin: dict,
) -> None:
    maker = await register(identity_client)
    await identity_client.post("/api/v1/admin/switch-organization",
                               headers=bearer(admin["access_token"]),
                               json={"organization_id": maker["organization"]["id"]})
    events = (await identity_client.get("/api/v1/organization/audit-events",
                                        headers=bearer(maker["access_token"]))).json()
    assert events["items"][0]["action"] == "admin.organization_switched"
    assert events["items"][0]["actor_user_id"] == admin["user"]["id"]


async def test_a_platform_admin_reads_the_audit_trail_of_any_organization(
    identity_client: httpx.AsyncClient, admin: dict,
) -> None:
    maker = await register(identity_client)
    response = await identity_client.get(
        f"/api/v1/admin/audit-events?org_id={maker['organization']['id']}",
        headers=bearer(admin["access_token"]))
    assert response.status_code == 200
    assert [e["action"] for e in response.json()["items"]] == ["organization.registered"]


async def test_an_acting_admin_cannot_make_api_keys(identity_client: httpx.AsyncClient,
                                                    admin: dict) -> None:
    maker = await register(identity_client)
    token = (await identity_client.post(
        "/api/v1/admin/switch-organization", headers=bearer(admin["access_token"]),
        json={"organization_id": maker["organization"]["id"]})).json()["access_token"]
    response = await identity_client.post("/api/v1/api-keys", headers=bearer(token),
                                          json={"name": "backdoor"})
    assert response.status_code == 403


async def test_switching_to_an_unknown_organization_is_not_found(
    identity_client: httpx.AsyncClient, admin: dict,
) -> None:
    response = await identity_client.post("/api/v1/admin/switch-organization",
                                          headers=bearer(admin["access_token"]),
                                          json={"organization_id": str(uuid.uuid4())})
    assert response.status_code == 404


async def test_everyone_else_is_refused_the_admin_routes(
    identity_client: httpx.AsyncClient,
) -> None:
    owner = await register(identity_client)
    other = await register(identity_client)
    auth = bearer(owner["access_token"])
    for method, path, body in [
        ("GET", "/api/v1/admin/organizations", None),
        ("POST", "/api/v1/admin/switch-organization",
         {"organization_id": other["organization"]["id"]}),
        ("GET", "/api/v1/admin/audit-events", None),
    ]:
        response = await identity_client.request(method, path, headers=auth, json=body)
        assert response.status_code == 403, path
        assert response.json()["error"]["message"] == "Only platform admins can do this"
    assert (await identity_client.get("/api/v1/admin/organizations")).status_code == 401
