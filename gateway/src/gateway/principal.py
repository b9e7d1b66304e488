"""Who is calling: what the gateway knows of a request's caller once it is authenticated."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from servicekit.identity import Role

Plan = Literal["free", "pro", "enterprise"]
PLATFORM_ADMIN_SCOPE = "platform:admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a user (by access token) or an API key.

    `org_id` is the organization the request acts in: the user's own, or for a platform
    admin acting in another organization's context, that one (`acting_for` keeps the admin's
    home organization so every such request can be audited).
    """

    kind: Literal["user", "api_key"]
    subject_id: uuid.UUID          # the user's id, or the API key's id
    org_id: uuid.UUID
    role: Role
    plan: Plan = "free"
    scopes: frozenset[str] = field(default_factory=frozenset)
    user_id: uuid.UUID | None = None  # for an API key: the user who created it
    platform_admin: bool = False
    acting_for: uuid.UUID | None = None

    @property
    def rate_limit_key(self) -> str:
        """Whose budget a request spends: per user, or per API key."""
        return f"{self.kind}:{self.subject_id}"

    @property
    def service_scopes(self) -> frozenset[str]:
        """The scopes forwarded to services (platform admins get theirs added)."""
        return self.scopes | {PLATFORM_ADMIN_SCOPE} if self.platform_admin else self.scopes
