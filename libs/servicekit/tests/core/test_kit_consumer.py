"""The consumer's verdict on each delivery, on SQLite, without a broker.

`on_delivery` is what a transport calls for every message; its Disposition is what the
transport then does (ack, retry after a delay, dead-letter). The consumer never touches the
transport on this path, so none is given.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from contracts import Event
from servicekit.db import Database, UnitOfWork
from servicekit.messaging.consumer import EventConsumer
from servicekit.messaging.envelope import Envelope
from servicekit.messaging.handlers import HandlerRegistry
from servicekit.messaging.transport import Delivery, Verdict
from servicekit.migrations import upgrade_database

MIGRATIONS = Path(__file__).parents[1] / "messaging" / "migrations"
MAX_ATTEMPTS = 3
RETRY_DELAYS = (0.5, 2.0)


class KitConsumed(Event):
    """An event these tests deliver to a handler that records its effect."""

    source_service: ClassVar[str] = "kit"
    event_name: ClassVar[str] = "KitConsumed"
    event_version: ClassVar[int] = 1

    value: str


class KitRefused(Event):
    """An event these tests deliver to a handler that always fails."""

    source_service: ClassVar[str] = "kit"
    event_name: ClassVar[str] = "KitRefused"
    event_version: ClassVar[int] = 1

    value: str


class KitMisvalidated(Event):
    """An event whose handler trips over a pydantic ValidationError of its own making."""

    source_service: ClassVar[str] = "kit"
    event_name: ClassVar[str] = "KitMisvalidated"
    event_version: ClassVar[int] = 1

    value: str


handlers = HandlerRegistry()


async def insert_effect(uow: UnitOfWork, envelope: Envelope, value: str) -> None:
    await uow.session.execute(
        sa.text("INSERT INTO effect (org_id, event_id, value) VALUES (:o, :e, :v)"),
        {"o": envelope.orgid, "e": envelope.id, "v": value},
    )


@handlers.on(KitConsumed)
async def record_effect(uow: UnitOfWork, event: KitConsumed, envelope: Envelope) -> None:
    await insert_effect(uow, envelope, event.value)


@handlers.on(KitRefused)
async def write_then_fail(uow: UnitOfWork, event: KitRefused, envelope: Envelope) -> None:
    await insert_effect(uow, envelope, event.value)
    raise RuntimeError("the kit handler gave up")


@handlers.on(KitMisvalidated)
async def validate_something_else(uow: UnitOfWork, event: KitMisvalidated,
                                  envelope: Envelope) -> None:
    KitConsumed.model_validate({"wrong": event.value})


@pytest.fixture(scope="module")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('kitconsumer') / 'kit.db'}"
    await asyncio.to_thread(upgrade_database, MIGRATIONS, url)
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, service="kit")
    yield db
    await db.dispose()


@pytest.fixture
def consumer(db: Database) -> EventConsumer:
    return EventConsumer(db, None, "kit.events", handlers,  # type: ignore[arg-type]
                         max_attempts=MAX_ATTEMPTS, retry_delays=RETRY_DELAYS)


def envelope_of(event_type: str, data: dict[str, Any], **fields: Any) -> Envelope:
    return Envelope(source="/smallbatch/kit-tests", type=event_type, data=data,
                    orgid=str(uuid.uuid4()), **fields)


def delivery(body: bytes, routing_key: str = "kit.KitConsumed.v1", attempt: int = 1) -> Delivery:
    return Delivery(body=body, routing_key=routing_key, message_id=None, attempt=attempt)


async def effects_of(db: Database, envelope: Envelope) -> int:
    async with db.engine.connect() as conn:
        return await conn.scalar(sa.text("SELECT count(*) FROM effect WHERE event_id = :e"),
                                 {"e": envelope.id})


async def inbox_rows_of(db: Database, envelope: Envelope) -> int:
    async with db.engine.connect() as conn:
        return await conn.scalar(sa.text("SELECT count(*) FROM inbox WHERE event_id = :e"),
                                 {"e": envelope.id})


async def test_a_handled_event_is_acked_after_its_effect_and_inbox_row_commit(
        consumer: EventConsumer, db: Database) -> None:
    envelope = envelope_of(KitConsumed.routing_key(), {"value": "made"})

    disposition = await consumer.on_delivery(delivery(envelope.to_bytes()))

    assert disposition.verdict is Verdict.ACK
    assert await effects_of(db, envelope) == 1
    assert await inbox_rows_of(db, envelope) == 1


async def test_a_malformed_body_is_dead_lettered(consumer: EventConsumer) -> None:
    disposition = await consumer.on_delivery(delivery(b"{not json at all"))

    assert disposition.verdict is Verdict.DEAD_LETTER
    assert disposition.reason is not None and disposition.reason.startswith("malformed")


async def test_an_envelope_whose_orgid_is_not_a_uuid_is_dead_lettered(
        consumer: EventConsumer) -> None:
    body = json.dumps({"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/smallbatch/x",
                       "type": KitConsumed.routing_key(), "data": {"value": "made"},
                       "orgid": "acme-corp"}).encode()

    disposition = await consumer.on_delivery(delivery(body))

    assert disposition.verdict is Verdict.DEAD_LETTER


async def test_a_payload_that_breaks_its_contract_is_dead_lettered_without_effect(
        consumer: EventConsumer, db: Database) -> None:
    envelope = envelope_of(KitConsumed.routing_key(), {"value": ["not", "a", "string"]})

    disposition = await consumer.on_delivery(delivery(envelope.to_bytes()))

    assert disposition.verdict is Verdict.DEAD_LETTER
    assert disposition.reason is not None and disposition.reason.startswith("invalid payload")
    assert await effects_of(db, envelope) == 0


async def test_a_failing_handler_on_its_first_attempt_is_retried_after_the_first_delay(
        consumer: EventConsumer, db: Database) -> None:
    envelope = envelope_of(KitRefused.routing_key(), {"value": "doomed"})

    disposition = await consumer.on_delivery(
        delivery(envelope.to_bytes(), KitRefused.routing_key(), attempt=1))

    assert disposition.verdict is Verdict.RETRY
    assert disposition.delay == RETRY_DELAYS[0]
    assert disposition.reason == "RuntimeError: the kit handler gave up"
    assert await effects_of(db, envelope) == 0
    assert await inbox_rows_of(db, envelope) == 0


async def test_a_failing_handler_on_a_later_attempt_waits_the_next_delay(
        consumer: EventConsumer) -> None:
    envelope = envelope_of(KitRefused.routing_key(), {"value": "doomed"})

    disposition = await consumer.on_delivery(
        delivery(envelope.to_bytes(), KitRefused.routing_key(), attempt=2))

    assert disposition.verdict is Verdict.RETRY
    assert disposition.delay == RETRY_DELAYS[1]


async def test_a_failing_handler_on_its_last_attempt_is_dead_lettered(
        consumer: EventConsumer) -> None:
    envelope = envelope_of(KitRefused.routing_key(), {"value": "doomed"})

    disposition = await consumer.on_delivery(
        delivery(envelope.to_bytes(), KitRefused.routing_key(), attempt=MAX_ATTEMPTS))

    assert disposition.verdict is Verdict.DEAD_LETTER
    assert disposition.reason == "RuntimeError: the kit handler gave up"


async def test_a_second_delivery_of_the_same_event_is_acked_without_running_again(
        consumer: EventConsumer, db: Database) -> None:
    envelope = envelope_of(KitConsumed.routing_key(), {"value": "once"})
    await consumer.on_delivery(delivery(envelope.to_bytes()))

    disposition = await consumer.on_delivery(delivery(envelope.to_bytes(), attempt=2))

    assert disposition.verdict is Verdict.ACK
    assert await effects_of(db, envelope) == 1


async def test_an_event_type_without_a_handler_is_acked(consumer: EventConsumer) -> None:
    envelope = envelope_of("kit.KitIgnored.v1", {"value": "nobody listens"})

    disposition = await consumer.on_delivery(delivery(envelope.to_bytes(), "kit.KitIgnored.v1"))

    assert disposition.verdict is Verdict.ACK


async def test_a_validation_error_inside_a_handler_is_retried_not_dead_lettered(
        consumer: EventConsumer) -> None:
    envelope = envelope_of(KitMisvalidated.routing_key(), {"value": "fine payload"})

    disposition = await consumer.on_delivery(
        delivery(envelope.to_bytes(), KitMisvalidated.routing_key(), attempt=1))

    assert disposition.verdict is Verdict.RETRY
