"""Signing up, in, on and out: register, login, refresh rotation, logout, password change;
the caller's own profile and settings."""

from __future__ import annotations

import time
import uuid
from typing import Any

import sqlalchemy as sa

from gateway.identity import domain
from gateway.identity.domain import digest, normalize_email
from gateway.identity.models import Organization, RefreshToken, User
from gateway.identity.passwords import Passwords
from gateway.identity.schemas import LoginRequest, PasswordChangeRequest, RegisterRequest
from gateway.identity.service.records import (
    SessionsEnded,
    SignedIn,
    active_user,
    audit,
    commit_new_user,
    ensure_email_free,
    get_organization,
    revoke_refresh_tokens,
    sign_in,
)
from gateway.identity.tokens import TokenIssuer
from gateway.principal import Principal
from servicekit.db import UnitOfWork, utcnow
from servicekit.errors import AuthenticationRequired, ValidationFailed


class InvalidCredentials(AuthenticationRequired):
    default_message = "Invalid email or password"


class InvalidRefreshToken(AuthenticationRequired):
    default_message = "Refresh token is invalid, expired or revoked"


class RefreshTokenReused(AuthenticationRequired):
    default_message = "Refresh token was already used: this sign-in is revoked, sign in again"


class WrongCurrentPassword(ValidationFailed):
    default_message = "Current password is incorrect"


async def register(uow: UnitOfWork, passwords: Passwords, tokens: TokenIssuer,
                   data: RegisterRequest) -> SignedIn:
    domain.check_password_policy(data.password)
    password_hash = await passwords.hash(data.password)
    email = normalize_email(data.email)
    await ensure_email_free(uow, email)
    org = Organization(id=uuid.uuid4(), name=data.organization_name.strip(), plan="free")
    user = User(id=uuid.uuid4(), org_id=org.id, email=email, password_hash=password_hash,
                first_name=data.first_name, last_name=data.last_name, phone=data.phone,
                role="owner", settings={}, is_platform_admin=False, is_active=True,
                must_change_password=False, last_login_at=utcnow())
    # No relationships are mapped, so the flushes order the inserts by foreign key.
    uow.session.add(org)
    await uow.session.flush()
    uow.session.add(user)
    await uow.session.flush()
    audit(uow, None, "organization.registered", f"organization:{org.id}", org_id=org.id,
          actor_user_id=user.id)
    signed_in = sign_in(uow, tokens, user, org, family_id=uuid.uuid4())
    await commit_new_user(uow)
    return signed_in


async def login(uow: UnitOfWork, passwords: Passwords, tokens: TokenIssuer,
                data: LoginRequest) -> SignedIn:
    """Any failure is the same 401 after the same work: unknown email, wrong password and
    deactivated account look alike."""
    user = await uow.session.scalar(
        sa.select(User).where(User.email == normalize_email(data.email)))
    matches, fresh_hash = await passwords.verify(data.password,
                                                 user.password_hash if user else None)
    if user is None or not matches or not user.is_active:
        raise InvalidCredentials()
    org = await get_organization(uow, user.org_id)
    if fresh_hash:
        user.password_hash = fresh_hash
    user.last_login_at = utcnow()
    signed_in = sign_in(uow, tokens, user, org, family_id=uuid.uuid4())
    await uow.commit()
    return signed_in


async def refresh(uow: UnitOfWork, tokens: TokenIssuer, raw_token: str) -> SignedIn:
    """Rotate: the presented token is spent and its successor joins the same family.

    A spent token presented again means two parties hold it (one of them a thief): the
    whole family is revoked and both must sign in again.
    """
    now = utcnow()
    presented = await uow.session.scalar(
        sa.select(RefreshToken).where(RefreshToken.token_hash == digest(raw_token))
        .with_for_update())
    if presented is None:
        raise InvalidRefreshToken()
    if presented.used_at is not None:
        await revoke_refresh_tokens(uow, RefreshToken.family_id == presented.family_id)
        audit(uow, None, "auth.refresh_token_reused", f"user:{presented.user_id}",
              org_id=presented.org_id, actor_user_id=presented.user_id,
              family_id=str(presented.family_id))
        await uow.commit()
        raise RefreshTokenReused()
    if presented.revoked_at is not None or presented.expires_at <= now:
        raise InvalidRefreshToken()
    user = await uow.session.get(User, presented.user_id)
    if user is None or not user.is_active:
        await revoke_refresh_tokens(uow, RefreshToken.family_id == presented.family_id)
        await uow.commit()
        raise InvalidRefreshToken()
    org = await get_organization(uow, user.org_id)
    presented.used_at = now
    signed_in = sign_in(uow, tokens, user, org, family_id=presented.family_id)
    await uow.commit()
    return signed_in


async def logout(uow: UnitOfWork, principal: Principal | None,
                 raw_token: str | None) -> SessionsEnded | None:
    """With a refresh token: revoke that sign-in (its family); the access tokens already
    issued to it run out on their own. Without one: revoke every sign-in of the calling
    user, on every device, and end their access tokens too.
    """
    if raw_token:
        presented = await uow.session.scalar(
            sa.select(RefreshToken).where(RefreshToken.token_hash == digest(raw_token)))
        if presented is not None:
            await revoke_refresh_tokens(uow, RefreshToken.family_id == presented.family_id)
            await uow.commit()
        return None
    if principal is None:
        raise AuthenticationRequired("Send the refresh token to revoke, or an access token")
    domain.require_user(principal)
    assert principal.user_id is not None
    ended = SessionsEnded(principal.user_id, time.time())
    await revoke_refresh_tokens(uow, RefreshToken.user_id == principal.user_id)
    await uow.commit()
    return ended


async def change_password(uow: UnitOfWork, passwords: Passwords, tokens: TokenIssuer,
                          principal: Principal,
                          data: PasswordChangeRequest) -> tuple[SignedIn, SessionsEnded]:
    """Every other sign-in of the user is revoked; this one continues with fresh tokens."""
    domain.require_user(principal)
    user = await active_user(uow, principal)
    matches, _ = await passwords.verify(data.current_password, user.password_hash)
    if not matches:
        raise WrongCurrentPassword(details={"fields": {"current_password": ["is incorrect"]}})
    domain.check_password_policy(data.new_password, field="new_password")
    if data.new_password == data.current_password:
        raise ValidationFailed("The new password must differ from the current one",
                               details={"fields": {"new_password": ["is the current one"]}})
    user.password_hash = await passwords.hash(data.new_password)
    user.must_change_password = False
    ended = SessionsEnded(user.id, time.time())
    await revoke_refresh_tokens(uow, RefreshToken.user_id == user.id)
    audit(uow, principal, "user.password_changed", f"user:{user.id}", org_id=user.org_id)
    org = await get_organization(uow, user.org_id)
    signed_in = sign_in(uow, tokens, user, org, family_id=uuid.uuid4())
    await uow.commit()
    return signed_in, ended


async def me(uow: UnitOfWork, principal: Principal) -> tuple[User, Organization]:
    """The calling user, and the organization they act in."""
    domain.require_user(principal)
    return await active_user(uow, principal), await get_organization(uow, principal.org_id)


async def update_settings(uow: UnitOfWork, principal: Principal,
                          settings: dict[str, Any]) -> dict[str, Any]:
    """Replace the caller's personal settings. A viewer may: they are nobody's data but
    their own."""
    domain.require_user(principal)
    domain.check_settings(settings)
    user = await active_user(uow, principal)
    user.settings = settings
    await uow.commit()
    return user.settings
