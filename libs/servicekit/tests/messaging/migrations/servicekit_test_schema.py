import sqlalchemy as sa

from servicekit.db import new_metadata

metadata = new_metadata()

effect = sa.Table(
    "effect",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.String(64), nullable=False),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("value", sa.String(200), nullable=False),
)
