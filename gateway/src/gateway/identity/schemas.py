"""Identity's request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from gateway.principal import Plan
from servicekit.identity import Role

Password = Field(max_length=1024)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(Request):
    organization_name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    password: str = Password
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=32)


class LoginRequest(Request):
    # A plain string: a malformed email gets the same 401 as an unknown one.
    email: str = Field(max_length=320)
    password: str = Password


class RefreshRequest(Request):
    refresh_token: str = Field(max_length=200)


class LogoutRequest(Request):
    refresh_token: str | None = Field(default=None, max_length=200)


class PasswordChangeRequest(Request):
    current_password: str = Password
    new_password: str = Password


class InviteRequest(Request):
    email: EmailStr
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    role: Role | None = None
    role_id: int | None = Field(default=None, description="Seed 000's numbering: 1 owner, "
                                "2 manager, 3 operator, 4 viewer")


class RoleChangeRequest(Request):
    role: Role | None = None
    role_id: int | None = None


class ApiKeyCreate(Request):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=list, max_length=32)
    role: Role = "operator"


class SwitchOrganizationRequest(Request):
    organization_id: uuid.UUID


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrganizationRead(Read):
    id: uuid.UUID
    name: str
    plan: Plan
    created_at: datetime


class UserRead(Read):
    id: uuid.UUID
    org_id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    phone: str | None
    role: Role
    is_active: bool
    must_change_password: bool
    is_platform_admin: bool
    created_at: datetime
    last_login_at: datetime | None


class MeRead(UserRead):
    settings: dict[str, Any]
    organization: OrganizationRead
    acting_for: uuid.UUID | None = Field(
        default=None, description="A platform admin's home organization while acting in "
        "another one (`organization`)")


class SessionRead(BaseModel):
    user: UserRead
    organization: OrganizationRead
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class MessageRead(BaseModel):
    success: Literal[True] = True
    message: str


class InviteData(BaseModel):
    username: str = Field(description="What the new user signs in with (their email)")
    temporary_password: str = Field(description="Shown once; must be changed at first use")
    user: UserRead


class InviteRead(BaseModel):
    success: Literal[True] = True
    message: str = "User invited successfully"
    data: InviteData


class ApiKeyRead(Read):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it by")
    scopes: list[str]
    role: Role
    created_by: uuid.UUID
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked: bool


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The whole key, shown only in this response")


class DashboardOrganization(BaseModel):
    id: uuid.UUID
    name: str
    subscription_tier: Plan
    active_users_count: int


class RoleRead(BaseModel):
    id: int
    name: Role
    description: str
    permissions: list[str]


class DashboardRead(BaseModel):
    organization: DashboardOrganization
    users: list[UserRead]
    roles: list[RoleRead]
    permissions: list[str] = Field(description="What the caller may do")


class OrganizationSummary(OrganizationRead):
    users_count: int
    active_users_count: int


class SwitchedSession(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    organization: OrganizationRead
    role: Role
    acting_for: uuid.UUID | None


class AuditEventRead(Read):
    id: uuid.UUID
    org_id: uuid.UUID
    actor_user_id: uuid.UUID | None
    actor_org_id: uuid.UUID | None
    action: str
    target: str | None
    details: dict[str, Any]
    created_at: datetime


class JwkSet(BaseModel):
    keys: list[dict[str, Any]]
