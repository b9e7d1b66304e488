"""Platform admins: every organization, acting in one's context, the audit trail."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from gateway.identity import domain
from gateway.identity.domain import normalize_email
from gateway.identity.models import AuditEvent, Organization, User
from gateway.identity.schemas import AuditEventRead, OrganizationSummary
from gateway.identity.service.members import UserNotFound
from gateway.identity.service.records import OrganizationNotFound, active_user, audit
from gateway.identity.tokens import TokenIssuer
from gateway.principal import Principal
from servicekit.db import UnitOfWork
from servicekit.identity import Role
from servicekit.pagination import Page, PageParams, paginate


async def list_organizations(uow: UnitOfWork, actor: Principal, params: PageParams,
                             search: str | None = None) -> Page[OrganizationSummary]:
    domain.require_platform_admin(actor)
    query = sa.select(Organization).order_by(Organization.created_at, Organization.id)
    if search:
        query = query.where(Organization.name.ilike(f"%{_escape_like(search)}%", escape="\\"))
    page = await paginate(uow.session, query, params)
    counts = {row.org_id: row for row in await uow.session.execute(
        sa.select(User.org_id, sa.func.count().label("users"),
                  sa.func.count().filter(User.is_active).label("active"))
        .where(User.org_id.in_([org.id for org in page.items]))
        .group_by(User.org_id))}
    summaries = [
        OrganizationSummary(id=org.id, name=org.name, plan=org.plan, created_at=org.created_at,
                            users_count=counts[org.id].users if org.id in counts else 0,
                            active_users_count=counts[org.id].active if org.id in counts else 0)
        for org in page.items
    ]
    return Page.build(summaries, page.total, params)


async def switch_organization(uow: UnitOfWork, tokens: TokenIssuer, actor: Principal,
                              org_id: uuid.UUID) -> tuple[str, Organization, Role,
                                                          uuid.UUID | None]:
    """An access token for a platform admin in `org_id`, as its owner, remembering the
    admin's home organization; switching to the home organization ends the acting."""
    domain.require_platform_admin(actor)
    admin = await active_user(uow, actor)
    if not admin.is_platform_admin:
        raise domain.PlatformAdminOnly()
    org = await uow.session.get(Organization, org_id)
    if org is None:
        raise OrganizationNotFound(details={"organization_id": str(org_id)})
    if org.id == admin.org_id:
        role: Role = admin.role  # type: ignore[assignment]
        acting_for = None
    else:
        role, acting_for = "owner", admin.org_id
    token = tokens.access_token(admin, org, role=role, acting_for=acting_for)
    uow.session.add(AuditEvent(org_id=org.id, actor_user_id=admin.id,
                               actor_org_id=admin.org_id, action="admin.organization_switched",
                               target=f"organization:{org.id}",
                               details={"role": role, "from_org_id": str(actor.org_id)}))
    await uow.commit()
    return token, org, role, acting_for


async def list_audit_events(uow: UnitOfWork, actor: Principal, params: PageParams, *,
                            org_id: uuid.UUID | None = None,
                            action: str | None = None) -> Page[AuditEventRead]:
    """Every organization's trail (or one's), for platform admins."""
    domain.require_platform_admin(actor)
    return await _audit_page(uow, params, org_id, action)


async def list_organization_audit_events(uow: UnitOfWork, actor: Principal,
                                         params: PageParams, *,
                                         action: str | None = None) -> Page[AuditEventRead]:
    """The caller's organization's trail, platform admins' visits included, for owners."""
    domain.require_owner_user(actor)
    return await _audit_page(uow, params, actor.org_id, action)


async def record_acting_request(uow: UnitOfWork, principal: Principal, method: str,
                                path: str) -> None:
    """Audit one request a platform admin made in another organization's context."""
    audit(uow, principal, "admin.request", f"{method} {path}"[:300], method=method, path=path)
    await uow.commit()


async def set_platform_admin(uow: UnitOfWork, email: str, granted: bool = True) -> User:
    """Make a user a platform admin (or not). Operators run this; no route offers it."""
    user = await uow.session.scalar(sa.select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise UserNotFound(details={"email": email})
    user.is_platform_admin = granted
    uow.session.add(AuditEvent(org_id=user.org_id, actor_user_id=None, actor_org_id=None,
                               action="admin.platform_admin_granted" if granted
                               else "admin.platform_admin_revoked",
                               target=f"user:{user.id}", details={}))
    await uow.commit()
    return user


async def _audit_page(uow: UnitOfWork, params: PageParams, org_id: uuid.UUID | None,
                      action: str | None) -> Page[AuditEventRead]:
    query = sa.select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id)
    if org_id is not None:
        query = query.where(AuditEvent.org_id == org_id)
    if action:
        query = query.where(AuditEvent.action == action)
    return await paginate(uow.session, query, params, transform=AuditEventRead.model_validate)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
