"""Identity use cases. Each owns its transaction: it commits, or raises and nothing is kept.

The caller is a `Principal` (who is acting, in which organization); every query of a member,
key or event is scoped to the caller's organization, so another organization's id is simply
not found.
"""

from gateway.identity.service.api_keys import (
    ApiKeyNotFound,
    ApiKeyRevoked,
    InvalidApiKey,
    NoKeysWhileActing,
    RoleAboveCreator,
    authenticate_api_key,
    create_api_key,
    get_api_key,
    list_api_keys,
    regenerate_api_key,
    revoke_api_key,
)
from gateway.identity.service.members import (
    LastOwner,
    UserNotFound,
    change_role,
    dashboard,
    get_user,
    invite_user,
    list_users,
    set_user_active,
)
from gateway.identity.service.platform import (
    list_audit_events,
    list_organization_audit_events,
    list_organizations,
    record_acting_request,
    set_platform_admin,
    switch_organization,
)
from gateway.identity.service.records import (
    AccountUnavailable,
    EmailTaken,
    OrganizationNotFound,
    SessionsEnded,
    SignedIn,
)
from gateway.identity.service.sessions import (
    InvalidCredentials,
    InvalidRefreshToken,
    RefreshTokenReused,
    WrongCurrentPassword,
    change_password,
    login,
    logout,
    me,
    refresh,
    register,
    update_settings,
)

__all__ = [
    "AccountUnavailable", "ApiKeyNotFound", "ApiKeyRevoked", "EmailTaken", "InvalidApiKey",
    "InvalidCredentials", "InvalidRefreshToken", "LastOwner", "NoKeysWhileActing",
    "OrganizationNotFound", "RefreshTokenReused", "RoleAboveCreator", "SessionsEnded",
    "SignedIn", "UserNotFound", "WrongCurrentPassword", "authenticate_api_key",
    "change_password", "change_role", "create_api_key", "dashboard", "get_api_key", "get_user",
    "invite_user", "list_api_keys", "list_audit_events", "list_organization_audit_events",
    "list_organizations", "list_users", "login", "logout", "me", "record_acting_request",
    "refresh", "regenerate_api_key", "register", "revoke_api_key", "set_platform_admin",
    "set_user_active", "switch_organization", "update_settings",
]
