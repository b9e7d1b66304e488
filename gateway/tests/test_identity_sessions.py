"""Signing up, in, on and out: register, login, refresh rotation with theft detection, logout,
password change."""

import asyncio

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from gateway.identity.models import RefreshToken, User
from gateway.identity.testing import PASSWORD, bearer, identity_fixtures, new_email, register

identity_app, identity_client = identity_fixtures()


def without_volatile(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("timestamp", "request_id")}


async def test_register_then_login_then_me(identity_client: httpx.AsyncClient) -> None:
    email = new_email()
    registered = await register(identity_client, email=email.upper(),
                                organization_name="Ember & Wick Candles")
    assert registered["user"]["email"] == email
    assert registered["user"]["role"] == "owner"
    assert registered["organization"]["plan"] == "free"
    assert registered["token_type"] == "bearer"
    assert registered["expires_in"] == 900

    login = await identity_client.post("/api/v1/auth/login",
                                       json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    me = await identity_client.get("/api/v1/users/me",
                                   headers=bearer(login.json()["access_token"]))
    assert me.status_code == 200
    body = me.json()
    assert (body["email"], body["role"], body["settings"]) == (email, "owner", {})
    assert body["organization"]["name"] == "Ember & Wick Candles"
    assert body["last_login_at"] is not None
    assert "password_hash" not in body


async def test_registering_a_taken_email_in_any_case_is_a_conflict(
    identity_client: httpx.AsyncClient,
) -> None:
    email = new_email()
    await register(identity_client, email=email)
    again = await identity_client.post("/api/v1/auth/register", json={
        "organization_name": "Copycat", "email": email.upper(), "password": PASSWORD,
        "first_name": "B", "last_name": "C"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "RESOURCE_CONFLICT"


async def test_a_short_password_is_refused_with_a_clear_message(
    identity_client: httpx.AsyncClient,
) -> None:
    response = await identity_client.post("/api/v1/auth/register", json={
        "organization_name": "Shortcuts", "email": new_email(), "password": "hunter2",
        "first_name": "A", "last_name": "B"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"] == "Password must be at least 10 characters"
    assert error["details"]["fields"]["password"] == ["must be at least 10 characters"]


async def test_wrong_password_and_unknown_email_get_the_identical_answer(
    identity_client: httpx.AsyncClient,
) -> None:
    email = new_email()
    await register(identity_client, email=email)
    wrong = await identity_client.post("/api/v1/auth/login",
                                       json={"email": email, "password": "not it at all"})
    unknown = await identity_client.post("/api/v1/auth/login",
                                         json={"email": new_email(), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert without_volatile(wrong.json()) == without_volatile(unknown.json()) == {
        "success": False,
        "error": {"code": "AUTHENTICATION_REQUIRED", "message": "Invalid email or password",
                  "details": {}},
    }
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"]


async def test_refresh_rotates_the_refresh_token(identity_client: httpx.AsyncClient) -> None:
    first = await register(identity_client)
    rotated = await identity_client.post("/api/v1/auth/refresh",
                                         json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["id"] == first["user"]["id"]
    me = await identity_client.get("/api/v1/users/me", headers=bearer(second["access_token"]))
    assert me.status_code == 200
    again = await identity_client.post("/api/v1/auth/refresh",
                                       json={"refresh_token": second["refresh_token"]})
    assert again.status_code == 200


async def test_reusing_a_spent_refresh_token_revokes_its_whole_family(
    identity_app: FastAPI, identity_client: httpx.AsyncClient,
) -> None:
    first = await register(identity_client)
    second = (await identity_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})).json()

    reuse = await identity_client.post("/api/v1/auth/refresh",
                                       json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    assert "already used" in reuse.json()["error"]["message"]
    newer = await identity_client.post("/api/v1/auth/refresh",
                                       json={"refresh_token": second["refresh_token"]})
    assert newer.status_code == 401

    async with identity_app.state.identity.db.sessionmaker() as session:
        revoked = (await session.scalars(sa.select(RefreshToken.revoked_at).where(
            RefreshToken.user_id == first["user"]["id"]))).all()
    assert len(revoked) == 2 and all(revoked)


async def test_two_refreshes_racing_with_one_token_leave_only_one_winner(
    identity_client: httpx.AsyncClient,
) -> None:
    session = await register(identity_client)
    responses = await asyncio.gather(*(
        identity_client.post("/api/v1/auth/refresh",
                             json={"refresh_token": session["refresh_token"]})
        for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [200, 401]


async def test_another_sign_in_survives_a_family_revoked_for_reuse(
    identity_client: httpx.AsyncClient,
) -> None:
    email = new_email()
    laptop = await register(identity_client, email=email)
    phone = (await identity_client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD})).json()
    await identity_client.post("/api/v1/auth/refresh",
                               json={"refresh_token": laptop["refresh_token"]})
    await identity_client.post("/api/v1/auth/refresh",
                               json={"refresh_token": laptop["refresh_token"]})
    still = await identity_client.post("/api/v1/auth/refresh",
                                       json={"refresh_token": phone["refresh_token"]})
    assert still.status_code == 200


async def test_an_unknown_refresh_token_is_refused(identity_client: httpx.AsyncClient) -> None:
    response = await identity_client.post("/api/v1/auth/refresh",
                                          json={"refresh_token": "made-up"})
    assert response.status_code == 401


async def test_logout_with_a_refresh_token_revokes_that_sign_in(
    identity_client: httpx.AsyncClient,
) -> None:
    session = await register(identity_client)
    out = await identity_client.post("/api/v1/auth/logout",
                                     json={"refresh_token": session["refresh_token"]})
    assert out.status_code == 200
    assert out.json() == {"success": True, "message": "Logged out successfully"}
    refused = await identity_client.post("/api/v1/auth/refresh",
                                         json={"refresh_token": session["refresh_token"]})
    assert refused.status_code == 401


async def test_logout_with_only_an_access_token_ends_every_sign_in_of_the_user(
    identity_client: httpx.AsyncClient,
) -> None:
    email = new_email()
    laptop = await register(identity_client, email=email)
    phone = (await identity_client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD})).json()
    out = await identity_client.post("/api/v1/auth/logout",
                                     headers=bearer(laptop["access_token"]))
    assert out.status_code == 200
    for session in (laptop, phone):
        refused = await identity_client.post(
            "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
        assert refused.status_code == 401
    me = await identity_client.get("/api/v1/users/me", headers=bearer(laptop["access_token"]))
    assert me.status_code == 401


async def test_logout_without_any_credential_is_refused(
    identity_client: httpx.AsyncClient,
) -> None:
    assert (await identity_client.post("/api/v1/auth/logout")).status_code == 401


async def test_login_still_works_with_a_stale_bearer_token_attached(
    identity_client: httpx.AsyncClient,
) -> None:
    email = new_email()
    await register(identity_client, email=email)
    response = await identity_client.post(
        "/api/v1/auth/login", headers=bearer("stale.garbage.token"),
        json={"email": email, "password": PASSWORD})
    assert response.status_code == 200


async def test_changing_the_password_revokes_other_sign_ins_and_keeps_this_one(
    identity_app: FastAPI, identity_client: httpx.AsyncClient,
) -> None:
    email = new_email()
    old = await register(identity_client, email=email)
    changed = await identity_client.post(
        "/api/v1/auth/password/change", headers=bearer(old["access_token"]),
        json={"current_password": PASSWORD, "new_password": "a much longer secret"})
    assert changed.status_code == 200, changed.text
    fresh = changed.json()

    assert (await identity_client.post("/api/v1/auth/refresh", json={
        "refresh_token": old["refresh_token"]})).status_code == 401
    assert (await identity_client.get("/api/v1/users/me", headers=bearer(
        fresh["access_token"]))).status_code == 200
    assert (await identity_client.post("/api/v1/auth/login", json={
        "email": email, "password": PASSWORD})).status_code == 401
    assert (await identity_client.post("/api/v1/auth/login", json={
        "email": email, "password": "a much longer secret"})).status_code == 200


async def test_changing_the_password_needs_the_current_one(
    identity_client: httpx.AsyncClient,
) -> None:
    session = await register(identity_client)
    response = await identity_client.post(
        "/api/v1/auth/password/change", headers=bearer(session["access_token"]),
        json={"current_password": "not the password", "new_password": "whatever else 123"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"] == {"current_password": ["is incorrect"]}


async def test_settings_are_replaced_whole_and_size_limited(
    identity_app: FastAPI, identity_client: httpx.AsyncClient,
) -> None:
    session = await register(identity_client)
    auth = bearer(session["access_token"])
    saved = await identity_client.put("/api/v1/users/me/settings", headers=auth,
                                      json={"units": "metric", "theme": {"dark": True}})
    assert saved.status_code == 200
    assert saved.json() == {"units": "metric", "theme": {"dark": True}}
    assert (await identity_client.get("/api/v1/users/me", headers=auth)).json()["settings"] == {
        "units": "metric", "theme": {"dark": True}}

    too_big = await identity_client.put("/api/v1/users/me/settings", headers=auth,
                                        json={"notes": "x" * 20_000})
    assert too_big.status_code == 422
    not_an_object = await identity_client.put("/api/v1/users/me/settings", headers=auth,
                                              json=["a", "list"])
    assert not_an_object.status_code == 422
    async with identity_app.state.identity.db.sessionmaker() as db:
        stored = await db.scalar(sa.select(User.settings).where(
            User.id == session["user"]["id"]))
    assert stored == {"units": "metric", "theme": {"dark": True}}
