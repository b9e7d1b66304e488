"""API keys: made by owners signed in as users in their own organization, shown once,
stored as sha256, revoked, regenerated; and the lookup behind `x-api-key`."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from gateway.identity import domain
from gateway.identity.domain import digest
from gateway.identity.models import ApiKey, Organization, User
from gateway.identity.schemas import ApiKeyCreate, ApiKeyRead
from gateway.identity.service.records import audit
from gateway.principal import Principal
from servicekit.db import UnitOfWork, utcnow
from servicekit.errors import AuthenticationRequired, Conflict, InsufficientPermissions, NotFound
from servicekit.pagination import Page, PageParams, paginate

API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


class InvalidApiKey(AuthenticationRequired):
    default_message = "API key is invalid or revoked"


class ApiKeyRevoked(Conflict):
    default_message = "A revoked API key cannot be regenerated"


class ApiKeyNotFound(NotFound):
    default_message = "API key not found"


class RoleAboveCreator(InsufficientPermissions):
    default_message = "An API key cannot have a higher role than its creator"


class NoKeysWhileActing(InsufficientPermissions):
    default_message = "API keys cannot be managed while acting in another organization"


async def create_api_key(uow: UnitOfWork, actor: Principal,
                         data: ApiKeyCreate) -> tuple[ApiKey, str]:
    """A new key; the whole secret is returned here once and never stored."""
    _require_key_manager(actor)
    if domain.outranks(data.role, actor.role):
        raise RoleAboveCreator(details={"role": data.role, "creator_role": actor.role})
    raw = domain.new_api_key()
    key = ApiKey(id=uuid.uuid4(), org_id=actor.org_id, name=data.name,
                 prefix=domain.shown_prefix(raw), key_hash=digest(raw),
                 scopes=domain.check_scopes(data.scopes), role=data.role,
                 created_by=actor.user_id)
    uow.session.add(key)
    audit(uow, actor, "api_key.created", f"api_key:{key.id}", name=data.name, role=data.role,
          scopes=key.scopes)
    await uow.commit()
    return key, raw


async def list_api_keys(uow: UnitOfWork, actor: Principal,
                        params: PageParams) -> Page[ApiKeyRead]:
    _require_key_manager(actor)
    query = (sa.select(ApiKey).where(ApiKey.org_id == actor.org_id)
             .order_by(ApiKey.created_at, ApiKey.id))
    return await paginate(uow.session, query, params, transform=ApiKeyRead.model_validate)


async def get_api_key(uow: UnitOfWork, actor: Principal, key_id: uuid.UUID) -> ApiKey:
    _require_key_manager(actor)
    return await _api_key(uow, actor.org_id, key_id)


async def revoke_api_key(uow: UnitOfWork, actor: Principal, key_id: uuid.UUID) -> ApiKey:
    _require_key_manager(actor)
    key = await _api_key(uow, actor.org_id, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit(uow, actor, "api_key.revoked", f"api_key:{key.id}")
        await uow.commit()
    return key


async def regenerate_api_key(uow: UnitOfWork, actor: Principal,
                             key_id: uuid.UUID) -> tuple[ApiKey, str]:
    """A new secret for the same key (id, name, scopes, role); the old secret stops working."""
    _require_key_manager(actor)
    key = await _api_key(uow, actor.org_id, key_id)
    if key.revoked_at is not None:
        raise ApiKeyRevoked(details={"api_key_id": str(key.id)})
    raw = domain.new_api_key()
    key.prefix, key.key_hash, key.last_used_at = domain.shown_prefix(raw), digest(raw), None
    audit(uow, actor, "api_key.regenerated", f"api_key:{key.id}")
    await uow.commit()
    return key, raw


async def authenticate_api_key(uow: UnitOfWork, raw: str) -> Principal:
    """The caller an `x-api-key` stands for. The key acts with its own role, but never more
    than its creator has now; a deactivated creator's keys stop working."""
    if not domain.looks_like_api_key(raw):
        raise InvalidApiKey()
    row = (await uow.session.execute(
        sa.select(ApiKey, User.role, User.is_active, Organization.plan)
        .join(User, User.id == ApiKey.created_by)
        .join(Organization, Organization.id == ApiKey.org_id)
        .where(ApiKey.key_hash == digest(raw))
    )).first()
    if row is None:
        raise InvalidApiKey()
    key, creator_role, creator_active, plan = row
    if key.revoked_at is not None or not creator_active:
        raise InvalidApiKey()
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= API_KEY_TOUCH_INTERVAL:
        await uow.session.execute(
            sa.update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        await uow.commit()
    return Principal(kind="api_key", subject_id=key.id, org_id=key.org_id,
                     role=domain.lesser_role(key.role, creator_role), plan=plan,
                     scopes=frozenset(key.scopes), user_id=key.created_by)


async def _api_key(uow: UnitOfWork, org_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    key = await uow.session.scalar(
        sa.select(ApiKey).where(ApiKey.org_id == org_id, ApiKey.id == key_id))
    if key is None:
        raise ApiKeyNotFound(details={"api_key_id": str(key_id)})
    return key


def _require_key_manager(actor: Principal) -> None:
    domain.require_owner_user(actor)
    if actor.acting_for is not None:
        raise NoKeysWhileActing()
