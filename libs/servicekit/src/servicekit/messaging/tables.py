"""The outbox and inbox tables every service's database has.

They live on servicekit's own MetaData; each service's alembic environment includes it beside
its own, and each service's first migration creates them with `create_messaging_tables()`.
"""

from __future__ import annotations

import sqlalchemy as sa

from servicekit.db import new_metadata
from servicekit.types import UTCDateTime

messaging_metadata = new_metadata()

# BIGINT identity on PostgreSQL; INTEGER PRIMARY KEY (the rowid) on SQLite, which only
# autoincrements that exact type.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

outbox = sa.Table(
    "outbox",
    messaging_metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False, unique=True),
    sa.Column("org_id", sa.String(64), nullable=False),
    sa.Column("routing_key", sa.String(200), nullable=False),
    sa.Column("body", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Column("publish_attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text(), nullable=True),
)
sa.Index(
    "ix_outbox_unsent", outbox.c.id,
    postgresql_where=outbox.c.sent_at.is_(None), sqlite_where=outbox.c.sent_at.is_(None),
)

inbox = sa.Table(
    "inbox",
    messaging_metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("handler", sa.String(200), primary_key=True),
    sa.Column("org_id", sa.String(64), nullable=False),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("processed_at", UTCDateTime(), nullable=False),
)


def create_messaging_tables() -> None:
    """Create the outbox and inbox tables; call from a service's first migration."""
    from alembic import op

    bind = op.get_bind()
    for table in (outbox, inbox):
        table.create(bind)


def drop_messaging_tables() -> None:
    from alembic import op

    bind = op.get_bind()
    for table in (inbox, outbox):
        table.drop(bind)
