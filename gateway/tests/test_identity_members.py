"""An organization's members: invitations, roles, deactivation, the dashboard; only owners
manage, viewers change nothing, and another organization's members are not found."""

import asyncio
import uuid

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from gateway.identity.models import AuditEvent
from gateway.identity.testing import (
    PASSWORD,
    bearer,
    identity_fixtures,
    member,
    new_email,
    register,
)

identity_app, identity_client = identity_fixtures()


def invitation(**overrides: object) -> dict:
    return {"email": new_email(), "first_name": "John", "last_name": "Doe",
            "phone": "555-123-4567", "role_id": 2, **overrides}


async def test_an_owner_invites_a_user_who_signs_in_with_the_temporary_password(
    identity_app: FastAPI, identity_client: httpx.AsyncClient,
) -> None:
    owner = await register(identity_client)
    body = invitation()
    response = await identity_client.post("/api/v1/organization/invite-user",
                                          headers=bearer(owner["access_token"]), json=body)
    assert response.status_code == 201
    invited = response.json()
    assert (invited["success"], invited["message"]) == (True, "User invited successfully")
    data = invited["data"]
    assert data["username"] == body["email"]
    assert len(data["temporary_password"]) >= 10
    assert (data["user"]["role"], data["user"]["must_change_password"]) == ("manager", True)
    assert data["user"]["org_id"] == owner["organization"]["id"]

    login = await identity_client.post("/api/v1/auth/login", json={
        "email": body["email"], "password": data["temporary_password"]})
    assert login.status_code == 200
    assert login.json()["organization"]["id"] == owner["organization"]["id"]
    async with identity_app.state.identity.db.sessionmaker() as session:
        actions = (await session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.org_id == uuid.UUID(owner["organization"]["id"])))).all()
    assert "user.invited" in actions


async def test_changing_the_temporary_password_clears_the_must_change_flag(
    identity_client: httpx.AsyncClient,
) -> None:
    owner = await register(identity_client)
    invited = (await identity_client.post("/api/v1/organization/invite-user",
                                          headers=bearer(owner["access_token"]),
                                          json=invitation())).json()["data"]
    login = (await identity_client.post("/api/v1/auth/login", json={
        "email": invited["username"], "password": invited["temporary_password"]})).json()
    changed = await identity_client.post(
        "/api/v1/auth/password/change", headers=bearer(login["access_token"]),
        json={"current_password": invited["temporary_password"], "new_password": PASSWORD})
    assert changed.status_code == 200
    assert changed.json()["user"]["must_change_password"] is False


async def test_a_manager_cannot_invite(identity_client: httpx.AsyncClient) -> None:
    owner = await register(identity_client)
    manager = await member(identity_client, owner["access_token"], "manager")
    response = await identity_client.post("/api/v1/organization/invite-user",
                                          headers=bearer(manager["access_token"]),
                                          json=invitation())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "INSUFFICIENT_PERMISSIONS"


async def test_a_viewer_cannot_write(identity_client: httpx.AsyncClient) -> None:
    owner = await register(identity_client)
    viewer = await member(identity_client, owner["access_token"], "viewer")
    auth = bearer(viewer["access_token"])
    for method, path, body in [
        ("POST", "/api/v1/organization/invite-user", invitation()),
        ("POST", "/api/v1/api-keys", {"name": "mine"}),
        ("PUT", f"/api/v1/users/{owner['user']['id']}/role", {"role": "viewer"}),
    ]:
        response = await identity_client.request(method, path, headers=auth, json=body)
        assert response.status_code == 403, path
        assert response.json()["error"]["message"] == "Viewers cannot change anything"
    # but reads, and their own settings, are theirs
    assert (await identity_client.get("/api/v1/organization/dashboard",
                                      headers=auth)).status_code == 200
    assert (await identity_client.put("/api/v1/users/me/settings", headers=auth,
                                      json={"theme": "dark"})).status_code == 200


async def test_inviting_an_email_already_registered_anywhere_is_a_conflict(
    identity_client: httpx.AsyncClient,
) -> None:
    someone = await register(identity_client)
    owner = await register(identity_client)
    response = await identity_client.post(
        "/api/v1/organization/invite-user", headers=bearer(owner["access_token"]),
        json=invitation(email=someone["user"]["email"].upper()))
    assert response.status_code == 409


async def test_an_owner_changes_a_members_role_and_their_old_token_ends(
    identity_client: httpx.AsyncClient,
) -> None:
    owner = await register(identity_client)
    operator = await member(identity_client, owner["access_token"], "operator")
    response = await identity_client.put(f"/api/v1/users/{operator['user']['id']}/role",
                                         headers=bearer(owner["access_token"]),
                                         json={"role_id": 4})
    assert response.status_code == 200
    assert response.json()["role"] == "viewer"
    assert (await identity_client.get("/api/v1/users/me", headers=bearer(
        operator["access_token"]))).status_code == 401
    refreshed = (await identity_client.post("/api/v1/auth/refresh", json={
        "refresh_token": operator["refresh_token"]})).json()
    me = await identity_client.get("/api/v1/users/me", headers=bearer(refreshed["access_token"]))
    assert me.json()["role"] == "viewer"


async def test_the_last_owner_cannot_be_demoted_but_one_of_two_can(
    identity_client: httpx.AsyncClient,
) -> None:
    owner = await register(identity_client)
    auth = bearer(owner["access_token"])
    alone = await identity_client.put(f"/api/v1/users/{owner['user']['id']}/role",
                                      headers=auth, json={"role": "manager"})
    assert alone.status_code == 409
    assert alone.json()["error"]["message"] == "An organization needs at least one active owner"

    second = await member(identity_client, owner["access_token"], "owner")
    demoted = await identity_client.put(f"/api/v1/users/{second['user']['id']}/role",
                                        headers=auth, json={"role": "manager"})
    assert demoted.status_code == 200
    again_alone = await identity_client.put(f"/api/v1/users/{owner['user']['id']}/role",
                                            headers=auth, json={"role": "manager"})
    assert again_alone.status_code == 409


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    identity_client: httpx.AsyncClient,
) -> None:
    first = await register(identity_client)
    second = await member(identity_client, first["access_token"], "owner")
    responses = await asyncio.gather(*(
        identity_client.put(f"/api/v1/users/{target['user']['id']}/role",
                            headers=bearer(actor["access_token"]), json={"role": "manager"})
        for actor, target in ((first, second), (second, first))))
    assert sorted(r.status_code for r in responses) == [200, 409]


async def test_a_deactivated_member_can_no_longer_sign_in(
    identity_client: httpx.AsyncClient,
) -> None:
    owner = await register(identity_client)
    operator = await member(identity_client, owner["access_token"], "operator")
    response = await identity_client.post(
        f"/api/v1/users/{operator['user']['id']}/deactivate",
        headers=bearer(owner["access_token"]))
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert (await identity_client.post("/api/v1/auth/login", json={
        "email": operator["user"]["email"], "password": operator["password"]})).status_code == 401
    assert (await identity_client.post("/api/v1/auth/refresh", json={
        "refresh_token": operator["refresh_token"]})).status_code == 401
    assert (await identity_client.get("/api/v1/users/me", headers=bearer(
        operator["access_token"]))).status_code == 401
    assert (await identity_client.post(
        f"/api/v1/users/{owner['user']['id']}/deactivate",
        headers=bearer(owner["access_token"]))).status_code == 409


async def test_another_organizations_member_is_not_found(
    identity_client: httpx.AsyncClient,
) -> None:
    ours = await register(identity_client)
    theirs = await register(identity_client)
    stranger = theirs["user"]["id"]
    auth = bearer(ours["access_token"])
    for method, path, body in [
        ("GET", f"/api/v1/users/{stranger}", None),
        ("PUT", f"/api/v1/users/{stranger}/role", {"role": "viewer"}),
        ("POST", f"/api/v1/users/{stranger}/deactivate", None),
    ]:
        response = await identity_client.request(method, path, headers=auth, json=body)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    me = await identity_client.get("/api/v1/users/me", headers=bearer(theirs["access_token"]))
    assert (me.json()["role"], me.json()["is_active"]) == ("owner", True)


async def test_the_dashboard_shows_the_organization_members_roles_and_permissions(
    identity_client: httpx.AsyncClient,
) -> None:
    owner = await register(identity_client, organization_name="Example Soaps")
    await member(identity_client, owner["access_token"], "operator")
    operator = await member(identity_client, owner["access_token"], "operator")
    await identity_client.post(f"/api/v1/users/{operator['user']['id']}/deactivate",
                               headers=bearer(owner["access_token"]))

    response = await identity_client.get("/api/v1/organization/dashboard",
                                         headers=bearer(owner["access_token"]))
    assert response.status_code == 200
    body = response.json()
    assert body["organization"] == {"id": owner["organization"]["id"], "name": "Example Soaps",
                                    "subscription_tier": "free", "active_users_count": 2}
    assert len(body["users"]) == 3
    assert [(r["id"], r["name"]) for r in body["roles"]] == [
        (1, "owner"), (2, "manager"), (3, "operator"), (4, "viewer")]
    assert "users:manage" in body["permissions"]


async def test_members_are_listed_by_page(identity_client: httpx.AsyncClient) -> None:
    owner = await register(identity_client)
    for _ in range(2):
        await member(identity_client, owner["access_token"], "viewer")
    page = (await identity_client.get("/api/v1/users?per_page=2",
                                      headers=bearer(owner["access_token"]))).json()
    assert (page["total"], page["pages"], page["has_next"], len(page["items"])) == (3, 2, True, 2)
    assert page["items"][0]["id"] == owner["user"]["id"]
