"""Identity's pure rules: roles and what they may do, password and settings policy, secrets.

No I/O here; the use cases in `service.py` apply these.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from typing import Any, Final

from gateway.principal import PLATFORM_ADMIN_SCOPE, Principal
from servicekit.errors import InsufficientPermissions, ValidationFailed
from servicekit.identity import ROLES, Role

# Seed 000 names roles by number: role_id 1..4.
ROLE_IDS: Final[dict[int, Role]] = dict(enumerate(ROLES, start=1))
# Higher is more: an API key never gets more than its creator has.
ROLE_RANK: Final[dict[str, int]] = {role: len(ROLES) - i for i, role in enumerate(ROLES)}

ROLE_DESCRIPTIONS: Final[dict[Role, str]] = {
    "owner": "Everything, including users, API keys and billing",
    "manager": "Runs production and purchasing: reads and changes all business data",
    "operator": "Works the floor: reads and changes business data",
    "viewer": "Reads everything, changes nothing",
}
_MEMBER = ("organization:read", "data:read")
ROLE_PERMISSIONS: Final[dict[Role, tuple[str, ...]]] = {
    "owner": (*_MEMBER, "data:write", "users:manage", "api_keys:manage", "billing:manage"),
    "manager": (*_MEMBER, "data:write"),
    "operator": (*_MEMBER, "data:write"),
    "viewer": _MEMBER,
}

MIN_PASSWORD_LENGTH: Final = 10
MAX_PASSWORD_LENGTH: Final = 1024
MAX_SETTINGS_BYTES: Final = 16 * 1024

API_KEY_PREFIX: Final = "sb_live_"
API_KEY_SHOWN_CHARS: Final = len(API_KEY_PREFIX) + 8     # `sb_live_ab12cd34`
_API_KEY_SECRET = re.compile(r"^sb_live_[A-Za-z0-9_-]{43}$")
_SCOPE = re.compile(r"^[a-z][a-z0-9_-]*(:[a-z0-9_*-]+)*$")


class ViewerCannotWrite(InsufficientPermissions):
    default_message = "Viewers cannot change anything"


class OwnerOnly(InsufficientPermissions):
    default_message = "Only an organization's owners can do this"


class UserOnly(InsufficientPermissions):
    default_message = "This needs a signed-in user, not an API key"


class PlatformAdminOnly(InsufficientPermissions):
    default_message = "Only platform admins can do this"


class WeakPassword(ValidationFailed):
    default_message = f"Password must be at least {MIN_PASSWORD_LENGTH} characters long"


class SettingsTooLarge(ValidationFailed):
    default_message = f"Settings must be at most {MAX_SETTINGS_BYTES // 1024} KiB of JSON"


class InvalidScope(ValidationFailed):
    default_message = "Scopes look like `area:action`, e.g. `inventory:read`"


def resolve_role(role: Role | None, role_id: int | None, default: Role | None = None) -> Role:
    """A role given by name, or by seed 000's number (1 owner .. 4 viewer)."""
    by_id = ROLE_IDS.get(role_id) if role_id is not None else None
    if role_id is not None and by_id is None:
        raise ValidationFailed("role_id must be 1 (owner) to 4 (viewer)",
                               details={"fields": {"role_id": ["must be 1 to 4"]}})
    if role is not None and by_id is not None and role != by_id:
        raise ValidationFailed("role and role_id name different roles",
                               details={"fields": {"role": [f"role_id {role_id} is {by_id}"]}})
    resolved = role or by_id or default
    if resolved is None:
        raise ValidationFailed("Give a role (or role_id)",
                               details={"fields": {"role": ["is required"]}})
    return resolved


def outranks(role: str, other: str) -> bool:
    return ROLE_RANK[role] > ROLE_RANK[other]


def lesser_role(a: Role, b: Role) -> Role:
    return a if ROLE_RANK[a] <= ROLE_RANK[b] else b


def require_writer(principal: Principal) -> None:
    if principal.role == "viewer":
        raise ViewerCannotWrite()


def require_owner_user(principal: Principal) -> None:
    """Managing users and API keys: an owner, signed in as a user (not through a key)."""
    require_writer(principal)
    if principal.kind != "user":
        raise UserOnly()
    if principal.role != "owner":
        raise OwnerOnly()


def require_user(principal: Principal) -> None:
    if principal.kind != "user" or principal.user_id is None:
        raise UserOnly()


def require_platform_admin(principal: Principal) -> None:
    if principal.kind != "user" or not principal.platform_admin:
        raise PlatformAdminOnly()


def check_password_policy(password: str, *, field: str = "password") -> None:
    problem = None
    if len(password) < MIN_PASSWORD_LENGTH:
        problem = f"must be at least {MIN_PASSWORD_LENGTH} characters"
    elif len(password) > MAX_PASSWORD_LENGTH:
        problem = f"must be at most {MAX_PASSWORD_LENGTH} characters"
    elif not password.strip():
        problem = "must not be blank"
    if problem:
        raise WeakPassword(f"Password {problem}", details={"fields": {field: [problem]}})


def check_settings(settings: dict[str, Any]) -> None:
    size = len(json.dumps(settings, separators=(",", ":")).encode())
    if size > MAX_SETTINGS_BYTES:
        raise SettingsTooLarge(details={"size_bytes": size, "max_bytes": MAX_SETTINGS_BYTES})


def check_scopes(scopes: list[str]) -> list[str]:
    """Distinct, well-formed scopes, sorted; `platform:admin` is never a key's to hold."""
    bad = [s for s in scopes if len(s) > 64 or not _SCOPE.match(s)]
    if bad:
        raise InvalidScope(details={"fields": {"scopes": [f"invalid scope {s!r}" for s in bad]}})
    if PLATFORM_ADMIN_SCOPE in scopes:
        raise InvalidScope("An API key cannot hold the platform admin scope",
                           details={"fields": {"scopes": [PLATFORM_ADMIN_SCOPE]}})
    return sorted(set(scopes))


def normalize_email(email: str) -> str:
    return email.strip().lower()


def digest(secret: str) -> str:
    """sha256 of a high-entropy secret (refresh token, API key): enough, and fast to look up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def looks_like_api_key(raw: str) -> bool:
    """Cheap shape check, so garbage never costs a database round trip."""
    return bool(_API_KEY_SECRET.match(raw))


def shown_prefix(api_key: str) -> str:
    return api_key[:API_KEY_SHOWN_CHARS]


def new_temporary_password() -> str:
    return secrets.token_urlsafe(12)
