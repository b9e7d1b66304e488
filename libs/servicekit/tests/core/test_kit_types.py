"""The shared column and field types: aware timestamps everywhere, plain JSON numbers out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from servicekit.types import JsonDecimal, UTCDateTime

stamp = sa.Table(
    "stamp", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime()),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'types.db'}")
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE stamp (id INTEGER PRIMARY KEY, at DATETIME)"))
    yield engine
    await engine.dispose()


async def store_and_read(engine: AsyncEngine, value: datetime | None) -> datetime | None:
    async with engine.begin() as conn:
        await conn.execute(sa.insert(stamp).values(id=1, at=value))
        return await conn.scalar(sa.select(stamp.c.at).where(stamp.c.id == 1))


async def test_a_utc_timestamp_comes_back_aware_from_sqlite(engine: AsyncEngine) -> None:
    written = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)

    read = await store_and_read(engine, written)

    assert read == written
    assert read is not None and read.tzinfo is not None
    assert read.utcoffset() == timedelta(0)


async def test_a_timestamp_in_another_zone_comes_back_as_the_same_instant_in_utc(
        engine: AsyncEngine) -> None:
    written = datetime(2026, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))

    read = await store_and_read(engine, written)

    assert read == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert read is not None and read.utcoffset() == timedelta(0)


async def test_a_null_timestamp_stays_null(engine: AsyncEngine) -> None:
    read = await store_and_read(engine, None)

    assert read is None


async def test_a_naive_timestamp_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(sa.exc.StatementError, match="timezone-aware"):
        await store_and_read(engine, datetime(2026, 3, 1, 12, 30))


class Reading(BaseModel):
    amount: JsonDecimal


@pytest.mark.parametrize(("amount", "json"), [
    (Decimal("0.10"), '{"amount":0.1}'),
    (Decimal("16.00"), '{"amount":16}'),
    (Decimal("-2.5"), '{"amount":-2.5}'),
    (Decimal("1234567.891"), '{"amount":1234567.891}'),
], ids=["tenth", "whole", "negative", "seven-places-before-the-point"])
def test_a_json_decimal_serializes_as_a_plain_json_number(amount: Decimal, json: str) -> None:
    assert Reading(amount=amount).model_dump_json() == json


def test_a_json_decimal_stays_a_decimal_in_python_mode() -> None:
    assert Reading(amount=Decimal("0.10")).model_dump() == {"amount": Decimal("0.10")}
