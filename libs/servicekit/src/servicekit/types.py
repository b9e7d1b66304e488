"""Column and field types the whole fleet shares."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import PlainSerializer


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware timestamp that comes back aware on every database.

    PostgreSQL keeps the zone (`timestamptz`); SQLite stores text without it, so values read
    back are marked UTC. Naive values are refused on the way in.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _json_number(value: Decimal) -> int | float:
    # Exact decimals inside, plain JSON numbers outside. A float prints its shortest
    # round-tripping form, so values of up to 15 significant digits come out as written.
    return int(value) if value == value.to_integral_value() else float(value)


JsonDecimal = Annotated[Decimal, PlainSerializer(_json_number, when_used="json")]
"""A Decimal that an API response shows as a plain JSON number."""
