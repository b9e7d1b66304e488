"""An organization's members: invitations, roles, (de)activation, the dashboard. Only owners
manage them."""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from gateway.identity import domain
from gateway.identity.domain import normalize_email
from gateway.identity.models import Organization, RefreshToken, User
from gateway.identity.passwords import Passwords
from gateway.identity.schemas import (
    DashboardOrganization,
    DashboardRead,
    InviteRequest,
    RoleRead,
    UserRead,
)
from gateway.identity.service.records import (
    SessionsEnded,
    audit,
    commit_new_user,
    ensure_email_free,
    get_organization,
    revoke_refresh_tokens,
)
from gateway.principal import Principal
from servicekit.db import UnitOfWork
from servicekit.errors import Conflict, NotFound
from servicekit.identity import Role
from servicekit.pagination import Page, PageParams, paginate


class UserNotFound(NotFound):
    default_message = "User not found"


class LastOwner(Conflict):
    default_message = "An organization needs at least one active owner"


async def invite_user(uow: UnitOfWork, passwords: Passwords, actor: Principal,
                      data: InviteRequest) -> tuple[User, str]:
    """A new member with a temporary password (returned once) they must change."""
    domain.require_owner_user(actor)
    role = domain.resolve_role(data.role, data.role_id, default="operator")
    email = normalize_email(data.email)
    await ensure_email_free(uow, email)
    temporary_password = domain.new_temporary_password()
    user = User(id=uuid.uuid4(), org_id=actor.org_id, email=email,
                password_hash=await passwords.hash(temporary_password),
                first_name=data.first_name, last_name=data.last_name, phone=data.phone,
                role=role, settings={}, is_platform_admin=False, is_active=True,
                must_change_password=True)
    uow.session.add(user)
    audit(uow, actor, "user.invited", f"user:{user.id}", email=email, role=role)
    await commit_new_user(uow)
    return user, temporary_password


async def list_users(uow: UnitOfWork, principal: Principal,
                     params: PageParams) -> Page[UserRead]:
    query = (sa.select(User).where(User.org_id == principal.org_id)
             .order_by(User.created_at, User.id))
    return await paginate(uow.session, query, params, transform=UserRead.model_validate)


async def get_user(uow: UnitOfWork, principal: Principal, user_id: uuid.UUID) -> User:
    return await _member(uow, principal.org_id, user_id)


async def change_role(uow: UnitOfWork, actor: Principal, user_id: uuid.UUID,
                      role: Role) -> tuple[User, SessionsEnded | None]:
    """The member's access tokens end (their refresh tokens fetch ones with the new role)."""
    domain.require_owner_user(actor)
    await _lock_membership(uow, actor.org_id)
    user = await _member(uow, actor.org_id, user_id)
    if user.role == role:
        return user, None
    if user.role == "owner":
        await _ensure_another_owner(uow, user)
    previous, user.role = user.role, role
    audit(uow, actor, "user.role_changed", f"user:{user.id}", previous=previous, role=role)
    ended = SessionsEnded(user.id, time.time())
    await uow.commit()
    return user, ended


async def set_user_active(uow: UnitOfWork, actor: Principal, user_id: uuid.UUID,
                          active: bool) -> tuple[User, SessionsEnded | None]:
    """Deactivating ends every sign-in of the member and stops the API keys they made."""
    domain.require_owner_user(actor)
    await _lock_membership(uow, actor.org_id)
    user = await _member(uow, actor.org_id, user_id)
    if user.is_active == active:
        return user, None
    ended = None
    if not active:
        if user.role == "owner":
            await _ensure_another_owner(uow, user)
        ended = SessionsEnded(user.id, time.time())
        await revoke_refresh_tokens(uow, RefreshToken.user_id == user.id)
    user.is_active = active
    audit(uow, actor, "user.activated" if active else "user.deactivated", f"user:{user.id}")
    await uow.commit()
    return user, ended


async def dashboard(uow: UnitOfWork, principal: Principal) -> DashboardRead:
    org = await get_organization(uow, principal.org_id)
    users = (await uow.session.scalars(
        sa.select(User).where(User.org_id == org.id).order_by(User.created_at, User.id)
    )).all()
    return DashboardRead(
        organization=DashboardOrganization(
            id=org.id, name=org.name, subscription_tier=org.plan,  # type: ignore[arg-type]
            active_users_count=sum(1 for u in users if u.is_active)),
        users=[UserRead.model_validate(u) for u in users],
        roles=[RoleRead(id=number, name=role, description=domain.ROLE_DESCRIPTIONS[role],
                        permissions=list(domain.ROLE_PERMISSIONS[role]))
               for number, role in domain.ROLE_IDS.items()],
        permissions=list(domain.ROLE_PERMISSIONS[principal.role]),
    )


async def _lock_membership(uow: UnitOfWork, org_id: uuid.UUID) -> None:
    """Serialize changes of an organization's roles and activations on its row: two owners
    demoting each other at once cannot both succeed (the second sees the first's change),
    and they cannot deadlock either."""
    await uow.session.execute(
        sa.select(Organization.id).where(Organization.id == org_id).with_for_update())


async def _member(uow: UnitOfWork, org_id: uuid.UUID, user_id: uuid.UUID) -> User:
    user = await uow.session.scalar(
        sa.select(User).where(User.org_id == org_id, User.id == user_id))
    if user is None:
        raise UserNotFound(details={"user_id": str(user_id)})
    return user


async def _ensure_another_owner(uow: UnitOfWork, user: User) -> None:
    others = (await uow.session.scalars(
        sa.select(User.id).where(User.org_id == user.org_id, User.role == "owner",
                                 User.is_active, User.id != user.id)
    )).all()
    if not others:
        raise LastOwner(details={"user_id": str(user.id)})
