"""The unit of work: events reach the outbox with the commit, and only with it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa

from contracts import Event
from servicekit.db import Database, EventContext
from servicekit.messaging.envelope import Envelope
from servicekit.messaging.tables import outbox
from servicekit.testing.plugin import PostgresDatabases

MIGRATIONS = Path(__file__).parents[1] / "messaging" / "migrations"


class KitTested(Event):
    """An event only these tests publish."""

    source_service: ClassVar[str] = "kit"
    event_name: ClassVar[str] = "KitTested"
    event_version: ClassVar[int] = 1

    value: str


@pytest.fixture(scope="module")
async def database_url(postgres_databases: PostgresDatabases) -> str:
    return await postgres_databases.create("kituow", MIGRATIONS)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, service="kit")
    yield db
    await db.dispose()


async def outbox_rows(db: Database, org_id: uuid.UUID) -> list[sa.Row]:
    async with db.engine.connect() as conn:
        result = await conn.execute(sa.select(outbox).where(outbox.c.org_id == str(org_id)))
        return list(result)


async def test_a_committed_unit_of_work_writes_its_event_to_the_outbox(db: Database) -> None:
    org_id = uuid.uuid4()
    context = EventContext(org_id=org_id, correlation_id="req-kit-1", causation_id="cause-1")

    async with db.unit_of_work(context) as uow:
        event_id = uow.publish(KitTested(value="ready"), subject="thing/7")
        await uow.commit()

    [row] = await outbox_rows(db, org_id)
    envelope = Envelope.from_bytes(row.body)
    assert (row.event_id, row.routing_key, row.sent_at) == (event_id, "kit.KitTested.v1", None)
    assert envelope.id == event_id
    assert envelope.type == "kit.KitTested.v1"
    assert envelope.source == "/smallbatch/kit"
    assert envelope.subject == "thing/7"
    assert envelope.data == {"value": "ready"}
    assert envelope.orgid == str(org_id)
    assert envelope.correlationid == "req-kit-1"
    assert envelope.causationid == "cause-1"


async def test_a_commit_that_wrote_events_calls_the_outbox_callback_once(db: Database) -> None:
    calls: list[str] = []
    db.on_outbox_commit(lambda: calls.append("woken"))

    async with db.unit_of_work(EventContext(org_id=uuid.uuid4())) as uow:
        uow.publish(KitTested(value="one"))
        uow.publish(KitTested(value="two"))
        await uow.commit()

    assert calls == ["woken"]


async def test_an_explicit_org_id_overrides_the_context(db: Database) -> None:
    org_id = uuid.uuid4()

    async with db.unit_of_work(EventContext(org_id=uuid.uuid4())) as uow:
        uow.publish(KitTested(value="elsewhere"), org_id=org_id)
        await uow.commit()

    assert len(await outbox_rows(db, org_id)) == 1


async def test_a_unit_of_work_left_without_commit_writes_nothing_and_wakes_no_one(
        db: Database) -> None:
    org_id = uuid.uuid4()
    calls: list[str] = []
    db.on_outbox_commit(lambda: calls.append("woken"))

    async with db.unit_of_work(EventContext(org_id=org_id)) as uow:
        uow.publish(KitTested(value="abandoned"))

    assert await outbox_rows(db, org_id) == []
    assert calls == []


async def test_a_commit_without_events_calls_no_outbox_callback(db: Database) -> None:
    calls: list[str] = []
    db.on_outbox_commit(lambda: calls.append("woken"))

    async with db.unit_of_work(EventContext(org_id=uuid.uuid4())) as uow:
        await uow.session.execute(sa.text("SELECT 1"))
        await uow.commit()

    assert calls == []


async def test_publishing_an_event_without_any_org_id_is_refused(db: Database) -> None:
    async with db.unit_of_work() as uow:
        with pytest.raises(ValueError, match="organization"):
            uow.publish(KitTested(value="orphan"))


async def test_concurrent_units_of_work_on_one_sqlite_file_both_commit_in_turn(
        tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'kit.db'}", service="kit")
    async with db.engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE tally (n INTEGER NOT NULL)"))

    async def count_then_append() -> None:
        # Read, pause while the other unit of work runs, then write. Unless BEGIN takes the
        # write lock, both read an empty tally (or one fails with "database is locked").
        async with db.unit_of_work() as uow:
            seen = await uow.session.scalar(sa.text("SELECT count(*) FROM tally"))
            await asyncio.sleep(0.05)
            await uow.session.execute(sa.text("INSERT INTO tally (n) VALUES (:n)"),
                                      {"n": seen + 1})
            await uow.commit()

    try:
        await asyncio.gather(count_then_append(), count_then_append())

        async with db.engine.connect() as conn:
            tally = (await conn.scalars(sa.text("SELECT n FROM tally ORDER BY n"))).all()
    finally:
        await db.dispose()
    assert tally == [1, 2]
