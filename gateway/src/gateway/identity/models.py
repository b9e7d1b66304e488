"""The gateway's own tables: organizations, their users, sessions, API keys and the audit trail.

Every row names the organization it belongs to (`org_id`; an organization's own id is its
`id`). Secrets are never stored: passwords as argon2 hashes, refresh tokens and API keys as
sha256 digests.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import new_metadata, utcnow
from servicekit.types import UTCDateTime

# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = new_metadata()


class Organization(Base):
    __tablename__ = "organization"
    __table_args__ = (sa.CheckConstraint("plan IN ('free', 'pro', 'enterprise')", name="plan"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(200))
    plan: Mapped[str] = mapped_column(sa.String(20), default="free", server_default="free")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class User(Base):
    __tablename__ = "app_user"
    __table_args__ = (
        sa.CheckConstraint("role IN ('owner', 'manager', 'operator', 'viewer')", name="role"),
        # Unique across the platform whatever the case: stored lower-cased, checked here.
        sa.CheckConstraint("email = lower(email)", name="email_lower_case"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organization.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    role: Mapped[str] = mapped_column(sa.String(20))
    is_platform_admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    settings: Mapped[dict[str, Any]] = mapped_column(Json, default=dict,
                                                     server_default=sa.text("'{}'"))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    must_change_password: Mapped[bool] = mapped_column(default=False,
                                                       server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RefreshToken(Base):
    """One opaque refresh token. Rotation keeps a family: each use marks the token used and
    issues its successor in the same family; a used token presented again revokes them all."""

    __tablename__ = "refresh_token"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organization.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiKey(Base):
    __tablename__ = "api_key"
    __table_args__ = (
        sa.CheckConstraint("role IN ('owner', 'manager', 'operator', 'viewer')", name="role"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(32))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(Json, default=list)
    role: Mapped[str] = mapped_column(sa.String(20), default="operator")
    created_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class AuditEvent(Base):
    """Who did what in which organization. `actor_org_id` differs from `org_id` when a
    platform admin acted in another organization's context. No foreign keys: the trail
    outlives what it mentions."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index(None, "org_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID]
    actor_user_id: Mapped[uuid.UUID | None]
    actor_org_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(sa.String(100))
    target: Mapped[str | None] = mapped_column(sa.String(300))
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
