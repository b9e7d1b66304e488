"""Identity's routes: thin, each parses, calls one use case and shapes the answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status

from gateway.identity import domain, service
from gateway.identity.dependencies import (
    IdentityDep,
    OptionalPrincipalDep,
    PrincipalDep,
    UnitOfWorkDep,
)
from gateway.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    AuditEventRead,
    DashboardRead,
    InviteData,
    InviteRead,
    InviteRequest,
    JwkSet,
    LoginRequest,
    LogoutRequest,
    MeRead,
    MessageRead,
    OrganizationRead,
    OrganizationSummary,
    PasswordChangeRequest,
    RefreshRequest,
    RegisterRequest,
    RoleChangeRequest,
    SessionRead,
    SwitchedSession,
    SwitchOrganizationRequest,
    UserRead,
)
from gateway.identity.service import SignedIn
from servicekit.pagination import Page, PageDep

auth = APIRouter(prefix="/api/v1/auth", tags=["auth"])
users = APIRouter(prefix="/api/v1/users", tags=["users"])
organization = APIRouter(prefix="/api/v1/organization", tags=["organization"])
api_keys = APIRouter(prefix="/api/v1/api-keys", tags=["api-keys"])
admin = APIRouter(prefix="/api/v1/admin", tags=["admin"])
well_known = APIRouter(tags=["auth"])

SettingsBody = Annotated[dict[str, Any], Body(description="The caller's settings, replaced "
                                                          "whole (a JSON object, ≤ 16 KiB)")]


def identity_routers() -> list[APIRouter]:
    """Every identity route, for the gateway app to include."""
    return [auth, users, organization, api_keys, admin, well_known]


def _session(signed_in: SignedIn) -> SessionRead:
    return SessionRead(user=UserRead.model_validate(signed_in.user),
                       organization=OrganizationRead.model_validate(signed_in.organization),
                       access_token=signed_in.access_token,
                       refresh_token=signed_in.refresh_token,
                       expires_in=signed_in.expires_in)


def _created_key(key: Any, raw: str) -> ApiKeyCreated:
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=raw)


# --- /api/v1/auth -------------------------------------------------------------------------

@auth.post("/register", status_code=status.HTTP_201_CREATED)
async def register(body: RegisterRequest, identity: IdentityDep,
                   uow: UnitOfWorkDep) -> SessionRead:
    """Create an organization (plan free) and its owner, signed in."""
    return _session(await service.register(uow, identity.passwords, identity.tokens, body))


@auth.post("/login")
async def login(body: LoginRequest, identity: IdentityDep, uow: UnitOfWorkDep) -> SessionRead:
    return _session(await service.login(uow, identity.passwords, identity.tokens, body))


@auth.post("/refresh")
async def refresh(body: RefreshRequest, identity: IdentityDep,
                  uow: UnitOfWorkDep) -> SessionRead:
    """Spend a refresh token for a new access token and its successor refresh token."""
    return _session(await service.refresh(uow, identity.tokens, body.refresh_token))


@auth.post("/logout")
async def logout(identity: IdentityDep, uow: UnitOfWorkDep, principal: OptionalPrincipalDep,
                 body: LogoutRequest | None = None) -> MessageRead:
    """With `refresh_token`: end that sign-in. Without: end every sign-in of the calling
    user (their access tokens stop at once)."""
    ended = await service.logout(uow, principal, body.refresh_token if body else None)
    if ended is not None:
        identity.authenticator.end_sessions(ended.user_id, ended.at)
    return MessageRead(message="Logged out successfully")


@auth.post("/password/change")
async def change_password(body: PasswordChangeRequest, principal: PrincipalDep,
                          identity: IdentityDep, uow: UnitOfWorkDep) -> SessionRead:
    """Ends every other sign-in; answers with fresh tokens for this one."""
    signed_in, ended = await service.change_password(uow, identity.passwords, identity.tokens,
                                                     principal, body)
    identity.authenticator.end_sessions(ended.user_id, ended.at)
    return _session(signed_in)


# --- /api/v1/users ------------------------------------------------------------------------

@users.get("/me")
async def me(principal: PrincipalDep, uow: UnitOfWorkDep) -> MeRead:
    user, org = await service.me(uow, principal)
    # While a platform admin acts in another organization, their role there is shown.
    return MeRead(**(UserRead.model_validate(user).model_dump() | {"role": principal.role}),
                  settings=user.settings, organization=OrganizationRead.model_validate(org),
                  acting_for=principal.acting_for)


@users.put("/me/settings")
async def update_settings(settings: SettingsBody, principal: PrincipalDep,
                          uow: UnitOfWorkDep) -> dict[str, Any]:
    return await service.update_settings(uow, principal, settings)


@users.get("")
async def list_users(principal: PrincipalDep, uow: UnitOfWorkDep,
                     page: PageDep) -> Page[UserRead]:
    return await service.list_users(uow, principal, page)


@users.get("/{user_id}", response_model=UserRead)
async def get_user(user_id: uuid.UUID, principal: PrincipalDep, uow: UnitOfWorkDep) -> Any:
    return await service.get_user(uow, principal, user_id)


@users.put("/{user_id}/role", response_model=UserRead)
async def change_role(user_id: uuid.UUID, body: RoleChangeRequest, principal: PrincipalDep,
                      identity: IdentityDep, uow: UnitOfWorkDep) -> Any:
    """Owners only. The last active owner cannot be demoted (409)."""
    role = domain.resolve_role(body.role, body.role_id)
    user, ended = await service.change_role(uow, principal, user_id, role)
    if ended is not None:
        identity.authenticator.end_sessions(ended.user_id, ended.at)
    return user


@users.post("/{user_id}/deactivate", response_model=UserRead)
async def deactivate_user(user_id: uuid.UUID, principal: PrincipalDep, identity: IdentityDep,
                          uow: UnitOfWorkDep) -> Any:
    """Owners only: ends the member's sign-ins and stops the API keys they created."""
    user, ended = await service.set_user_active(uow, principal, user_id, active=False)
    if ended is not None:
        identity.authenticator.end_sessions(ended.user_id, ended.at)
    return user


@users.post("/{user_id}/activate", response_model=UserRead)
async def activate_user(user_id: uuid.UUID, principal: PrincipalDep,
                        uow: UnitOfWorkDep) -> Any:
    user, _ = await service.set_user_active(uow, principal, user_id, active=True)
    return user


# --- /api/v1/organization -----------------------------------------------------------------

@organization.get("/dashboard")
async def dashboard(principal: PrincipalDep, uow: UnitOfWorkDep) -> DashboardRead:
    """The organization, its members, the roles and what the caller may do (seed 000)."""
    return await service.dashboard(uow, principal)


@organization.post("/invite-user", status_code=status.HTTP_201_CREATED)
async def invite_user(body: InviteRequest, principal: PrincipalDep, identity: IdentityDep,
                      uow: UnitOfWorkDep) -> InviteRead:
    """Owners only. The temporary password is shown here once; the new member signs in with
    their email and it, and should change it."""
    user, temporary_password = await service.invite_user(uow, identity.passwords, principal,
                                                         body)
    return InviteRead(data=InviteData(username=user.email,
                                      temporary_password=temporary_password,
                                      user=UserRead.model_validate(user)))


@organization.get("/audit-events")
async def organization_audit_events(principal: PrincipalDep, uow: UnitOfWorkDep,
                                    page: PageDep,
                                    action: str | None = None) -> Page[AuditEventRead]:
    """Owners only: what was done in this organization, platform admins' visits included."""
    return await service.list_organization_audit_events(uow, principal, page, action=action)


# --- /api/v1/api-keys ---------------------------------------------------------------------

@api_keys.post("", status_code=status.HTTP_201_CREATED)
async def create_api_key(body: ApiKeyCreate, principal: PrincipalDep,
                         uow: UnitOfWorkDep) -> ApiKeyCreated:
    """Owners only. `key` is in this response only; send it as `x-api-key`."""
    key, raw = await service.create_api_key(uow, principal, body)
    return _created_key(key, raw)


@api_keys.get("")
async def list_api_keys(principal: PrincipalDep, uow: UnitOfWorkDep,
                        page: PageDep) -> Page[ApiKeyRead]:
    return await service.list_api_keys(uow, principal, page)


@api_keys.get("/{key_id}", response_model=ApiKeyRead)
async def get_api_key(key_id: uuid.UUID, principal: PrincipalDep, uow: UnitOfWorkDep) -> Any:
    return await service.get_api_key(uow, principal, key_id)


@api_keys.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: uuid.UUID, principal: PrincipalDep, identity: IdentityDep,
                         uow: UnitOfWorkDep) -> Response:
    await service.revoke_api_key(uow, principal, key_id)
    identity.authenticator.forget_api_key(key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@api_keys.post("/{key_id}/regenerate")
async def regenerate_api_key(key_id: uuid.UUID, principal: PrincipalDep, identity: IdentityDep,
                             uow: UnitOfWorkDep) -> ApiKeyCreated:
    """A new secret for the same key; the old one stops working."""
    key, raw = await service.regenerate_api_key(uow, principal, key_id)
    identity.authenticator.forget_api_key(key_id)
    return _created_key(key, raw)


# --- /api/v1/admin (platform admins) ------------------------------------------------------

@admin.get("/organizations")
async def list_organizations(principal: PrincipalDep, uow: UnitOfWorkDep, page: PageDep,
                             search: Annotated[str | None, Query(max_length=200)] = None,
                             ) -> Page[OrganizationSummary]:
    return await service.list_organizations(uow, principal, page, search)


@admin.post("/switch-organization")
async def switch_organization(body: SwitchOrganizationRequest, principal: PrincipalDep,
                              identity: IdentityDep, uow: UnitOfWorkDep) -> SwitchedSession:
    """An access token acting in `organization_id` as its owner (audited, as is every request
    made with it). No refresh token: switch again when it expires."""
    token, org, role, acting_for = await service.switch_organization(
        uow, identity.tokens, principal, body.organization_id)
    return SwitchedSession(access_token=token, expires_in=identity.tokens.access_ttl_seconds,
                           organization=OrganizationRead.model_validate(org), role=role,
                           acting_for=acting_for)


@admin.get("/audit-events")
async def audit_events(principal: PrincipalDep, uow: UnitOfWorkDep, page: PageDep,
                       org_id: uuid.UUID | None = None,
                       action: str | None = None) -> Page[AuditEventRead]:
    return await service.list_audit_events(uow, principal, page, org_id=org_id, action=action)


# --- /.well-known -------------------------------------------------------------------------

@well_known.get("/.well-known/jwks.json")
async def jwks(identity: IdentityDep, response: Response) -> JwkSet:
    """The public key that verifies every token the gateway signs."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return JwkSet(**identity.tokens.jwks())
