"""The rows every use case touches, read and written the same way. Nothing here commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from gateway.identity import domain
from gateway.identity.domain import digest
from gateway.identity.models import AuditEvent, Organization, RefreshToken, User
from gateway.identity.tokens import TokenIssuer
from gateway.principal import Principal
from servicekit.db import UnitOfWork, utcnow
from servicekit.errors import AuthenticationRequired, Conflict, NotFound


class AccountUnavailable(AuthenticationRequired):
    default_message = "This account is no longer active"


class EmailTaken(Conflict):
    default_message = "An account with this email already exists"


class OrganizationNotFound(NotFound):
    default_message = "Organization not found"


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    organization: Organization
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class SessionsEnded:
    """A user whose earlier access tokens must stop working (the gateway forgets them)."""

    user_id: uuid.UUID
    at: float


def sign_in(uow: UnitOfWork, tokens: TokenIssuer, user: User, org: Organization, *,
            family_id: uuid.UUID) -> SignedIn:
    raw = domain.new_refresh_secret()
    now = utcnow()
    uow.session.add(RefreshToken(
        org_id=user.org_id, user_id=user.id, family_id=family_id, token_hash=digest(raw),
        issued_at=now, expires_at=now + timedelta(seconds=tokens.refresh_ttl_seconds)))
    return SignedIn(user=user, organization=org, access_token=tokens.access_token(user, org),
                    refresh_token=raw, expires_in=tokens.access_ttl_seconds)


async def revoke_refresh_tokens(uow: UnitOfWork, which: sa.ColumnElement[bool]) -> None:
    await uow.session.execute(
        sa.update(RefreshToken).where(which, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False))


def audit(uow: UnitOfWork, actor: Principal | None, action: str, target: str | None, *,
          org_id: uuid.UUID | None = None, actor_user_id: uuid.UUID | None = None,
          **details: Any) -> None:
    if actor is not None and actor.kind == "api_key":
        details["api_key_id"] = str(actor.subject_id)
    org = org_id or (actor.org_id if actor else None)
    assert org is not None, "an audit event belongs to an organization"
    uow.session.add(AuditEvent(
        org_id=org,
        actor_user_id=actor_user_id or (actor.user_id if actor else None),
        actor_org_id=(actor.acting_for or actor.org_id) if actor else org,
        action=action, target=target, details=details))


async def ensure_email_free(uow: UnitOfWork, email: str) -> None:
    if await uow.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise EmailTaken(details={"fields": {"email": ["is already registered"]}})


async def commit_new_user(uow: UnitOfWork) -> None:
    try:
        await uow.commit()
    except IntegrityError as exc:
        message = str(exc.orig)
        if "uq_app_user_email" in message or "app_user.email" in message:
            # another request took the email since we looked
            raise EmailTaken(details={"fields": {"email": ["is already registered"]}}) from exc
        raise


async def get_organization(uow: UnitOfWork, org_id: uuid.UUID) -> Organization:
    org = await uow.session.get(Organization, org_id)
    if org is None:
        raise OrganizationNotFound(details={"organization_id": str(org_id)})
    return org


async def active_user(uow: UnitOfWork, principal: Principal) -> User:
    user = await uow.session.get(User, principal.user_id) if principal.user_id else None
    if user is None or not user.is_active:
        raise AccountUnavailable()
    return user
