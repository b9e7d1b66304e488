"""The outbox/inbox guarantees, on the real PostgreSQL and RabbitMQ, through a tiny service."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa

from contracts import Event
from servicekit.app import create_service_app
from servicekit.db import Database, EventContext, UnitOfWork
from servicekit.messaging.consumer import EventConsumer
from servicekit.messaging.envelope import Envelope
from servicekit.messaging.handlers import HandlerRegistry
from servicekit.messaging.rabbitmq import RabbitMQTransport
from servicekit.messaging.relay import OutboxRelay
from servicekit.messaging.transport import PublishFailed
from servicekit.metrics import ServiceMetrics
from servicekit.settings import ServiceSettings
from servicekit.testing.broker import delete_namespace
from servicekit.testing.plugin import PostgresDatabases, eventually
from servicekit.testing.service import running_service
from servicekit.testing.tcpproxy import TCPProxy

MIGRATIONS = Path(__file__).parent / "migrations"
QUEUE = "probe.events"
EXCHANGE = "smallbatch.events"
RETRY_DELAYS = (0.1, 0.3)


class ProbeHappened(Event):
    """An event only these tests publish."""

    source_service: ClassVar[str] = "probe"
    event_name: ClassVar[str] = "ProbeHappened"
    event_version: ClassVar[int] = 1

    value: str


async def record_effect(uow: UnitOfWork, event: ProbeHappened, envelope: Envelope) -> None:
    await uow.session.execute(
        sa.text("INSERT INTO effect (org_id, event_id, value) VALUES (:o, :e, :v)"),
        {"o": envelope.orgid, "e": envelope.id, "v": event.value},
    )


class Harness:
    """A database, a RabbitMQ transport per test, and what ran on them."""

    def __init__(self, db: Database, amqp_url: str, namespace: str) -> None:
        self.db = db
        self.amqp_url = amqp_url
        self.namespace = namespace
        self.transports: list[RabbitMQTransport] = []
        self.relays: list[OutboxRelay] = []
        self.org_id = str(uuid.uuid4())
        self.metrics = ServiceMetrics("probe")

    def consumed(self, outcome: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "events_consumed_total", {"type": ProbeHappened.routing_key(), "outcome": outcome})
        return value or 0.0

    async def transport(self, url: str | None = None, *, publish_timeout: float = 2.0,
                        delivery_limit: int = 10) -> RabbitMQTransport:
        transport = RabbitMQTransport(
            url or self.amqp_url, namespace=self.namespace, exchange=EXCHANGE,
            publish_timeout=publish_timeout, delivery_limit=delivery_limit,
            retry_delays=RETRY_DELAYS,
        )
        await transport.connect()
        self.transports.append(transport)
        return transport

    def relay(self, transport: object, **options: object) -> OutboxRelay:
        relay = OutboxRelay(self.db, transport, poll_interval=0.2, **options)  # type: ignore[arg-type]
        self.relays.append(relay)
        return relay

    async def consume(self, transport: RabbitMQTransport,
                      handler: Callable[..., Awaitable[None]] = record_effect,
                      max_attempts: int = 5) -> EventConsumer:
        registry = HandlerRegistry()
        registry.on(ProbeHappened)(handler)
        consumer = EventConsumer(self.db, transport, QUEUE, registry,
                                 max_attempts=max_attempts, retry_delays=RETRY_DELAYS,
                                 metrics=self.metrics)
        await consumer.start()
        return consumer

    async def write_event(self, value: str, *, commit: bool = True) -> str:
        async with self.db.unit_of_work(EventContext(org_id=self.org_id)) as uow:
            event_id = uow.publish(ProbeHappened(value=value))
            if commit:
                await uow.commit()
        return event_id

    async def scalar(self, sql: str, **params: object) -> object:
        async with self.db.sessionmaker() as session:
            return await session.scalar(sa.text(sql), params)

    async def close(self) -> None:
        for relay in self.relays:
            await relay.stop()
        for transport in self.transports:
            await transport.close()
        await delete_namespace(self.amqp_url, self.namespace, [QUEUE], RETRY_DELAYS)


@pytest.fixture
async def harness(postgres_databases: PostgresDatabases, amqp_url: str,
                  broker_namespace: str) -> AsyncIterator[Harness]:
    url = await postgres_databases.create("messaging", MIGRATIONS)
    db = Database(url, service="probe")
    harness = Harness(db, amqp_url, broker_namespace)
    yield harness
    await harness.close()
    await db.dispose()

class RelayCrashed(Exception):
    """The relay process died between the broker's confirm and its own commit."""


class DiesAfterPublishing:
    """The real transport, wrapped so the relay dies right after the broker confirms."""

    def __init__(self, transport: object) -> None:
        self.transport = transport

    @property
    def is_connected(self) -> bool:
        return True

    async def publish(self, routing_key: str, body: bytes, **kwargs: object) -> None:
        await self.transport.publish(routing_key, body, **kwargs)  # type: ignore[attr-defined]
        raise RelayCrashed


async def test_an_event_written_in_a_rolled_back_transaction_is_never_published(
    harness: Harness,
) -> None:
    transport = await harness.transport()
    await harness.consume(transport)
    await harness.write_event("rolled back", commit=False)
    committed = await harness.write_event("committed")

    relay = harness.relay(transport)
    assert await relay.publish_pending() == 1

    async def only_the_committed_event_took_effect() -> None:
        assert await harness.scalar("SELECT count(*) FROM effect") == 1
    await eventually(only_the_committed_event_took_effect)
    await asyncio.sleep(0.5)
    assert await harness.scalar("SELECT count(*) FROM effect") == 1
    assert await harness.scalar("SELECT event_id FROM effect") == committed
    assert await harness.scalar("SELECT count(*) FROM outbox") == 1


async def test_a_relay_that_dies_after_publishing_causes_a_duplicate_the_inbox_absorbs(
    harness: Harness,
) -> None:
    transport = await harness.transport()
    await harness.consume(transport)
    event_id = await harness.write_event("once")

    with pytest.raises(RelayCrashed):
        await harness.relay(DiesAfterPublishing(transport)).publish_pending()
    assert await harness.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 1

    assert await harness.relay(transport).publish_pending() == 1

    async def both_deliveries_were_handled() -> None:
        assert harness.consumed("handled") == 1
        assert harness.consumed("duplicate") == 1
    await eventually(both_deliveries_were_handled)
    assert await harness.scalar("SELECT count(*) FROM inbox") == 1
    assert await harness.scalar("SELECT count(*) FROM effect WHERE event_id = :e",
                                e=event_id) == 1
    assert await harness.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0


async def test_writes_are_accepted_while_the_broker_is_unreachable_and_arrive_once_it_is_back(
    harness: Harness,
) -> None:
    consumer_side = await harness.transport()
    await harness.consume(consumer_side)
    proxy = TCPProxy("127.0.0.1", 5672)
    await proxy.start()
    try:
        publisher = await harness.transport(proxy.url_for(harness.amqp_url),
                                            publish_timeout=1.0)
        relay = harness.relay(publisher)
        relay.start()
        await proxy.cut()

        written = [await harness.write_event(f"while away {n}") for n in range(5)]
        assert await harness.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 5
        await asyncio.sleep(1.5)
        assert await harness.scalar("SELECT count(*) FROM effect") == 0

        await proxy.restore()

        async def every_event_arrived() -> None:
            assert await harness.scalar("SELECT count(*) FROM effect") == 5
        await eventually(every_event_arrived, timeout=30)
        await asyncio.sleep(0.5)
        assert await harness.scalar("SELECT count(DISTINCT event_id) FROM effect") == 5
        assert await harness.scalar("SELECT count(*) FROM effect") == 5
        assert set(written) == {
            row for row in (await _event_ids(harness))
        }
    finally:
        await proxy.close()


async def test_publishing_to_an_unreachable_broker_fails_within_the_timeout(
    harness: Harness,
) -> None:
    proxy = TCPProxy("127.0.0.1", 5672)
    await proxy.start()
    try:
        publisher = await harness.transport(proxy.url_for(harness.amqp_url),
                                            publish_timeout=1.0)
        await harness.write_event("stuck")
        await proxy.cut()
        relay = harness.relay(publisher)
        with pytest.raises(PublishFailed):
            await asyncio.wait_for(relay.publish_pending(), 5)
        assert await harness.scalar(
            "SELECT publish_attempts FROM outbox WHERE sent_at IS NULL") == 1
    finally:
        await proxy.close()


async def test_a_message_whose_handler_always_fails_lands_in_the_dead_letter_queue(
    harness: Harness,
) -> None:
    attempts: list[int] = []

    async def always_fails(uow: object, event: object, envelope: object) -> None:
        attempts.append(1)
        raise RuntimeError("the handler cannot cope")

    transport = await harness.transport()
    await harness.consume(transport, always_fails, max_attempts=3)
    event_id = await harness.write_event("poison")
    await harness.relay(transport).publish_pending()

    async def dead_lettered() -> list:
        letters = await transport.dead_letters(QUEUE)
        assert [letter.id for letter in letters] == [event_id]
        return letters
    letters = await eventually(dead_lettered, timeout=20)
    assert len(attempts) == 3
    assert letters[0].attempts == 3
    assert "the handler cannot cope" in (letters[0].reason or "")
    assert await harness.scalar("SELECT count(*) FROM inbox") == 0
    assert await harness.scalar("SELECT count(*) FROM effect") == 0


async def _event_ids(harness: Harness) -> set[str]:
    async with harness.db.sessionmaker() as session:
        from sqlalchemy import text

        return set((await session.scalars(text("SELECT event_id FROM effect"))).all())


async def test_an_admin_lists_a_dead_letter_and_replays_it_once_the_handler_is_fixed(
    harness: Harness, mint_token, token_keys: tuple[str, str],
) -> None:
    broken = True

    async def flaky_until_fixed(uow: UnitOfWork, event: ProbeHappened,
                                envelope: Envelope) -> None:
        if broken:
            raise RuntimeError("a bug in the handler")
        await record_effect(uow, event, envelope)

    registry = HandlerRegistry()
    registry.on(ProbeHappened)(flaky_until_fixed)
    settings = ServiceSettings(
        service_name="probe", database_url=harness.db.url, broker_url=harness.amqp_url,
        broker_namespace=harness.namespace, consumer_max_attempts=2,
        consumer_retry_delays=list(RETRY_DELAYS), jwt_public_key=token_keys[1],
    )
    app = create_service_app(settings, title="probe", handlers=registry)
    admin = {"Authorization": f"Bearer {mint_token(scopes=['platform:admin'])}"}
    async with running_service(app) as client:
        event_id = await harness.write_event("needs a fix")
        await harness.relay(app.state.runtime.transport).publish_pending()

        async def listed() -> dict:
            response = await client.get("/admin/dead-letters", headers=admin)
            assert response.status_code == 200
            body = response.json()
            assert [item["id"] for item in body["items"]] == [event_id]
            return body["items"][0]
        letter = await eventually(listed, timeout=20)
        assert letter["event"]["data"] == {"value": "needs a fix"}
        assert "a bug in the handler" in letter["reason"]

        owner = {"Authorization": f"Bearer {mint_token()}"}
        assert (await client.get("/admin/dead-letters", headers=owner)).status_code == 403

        broken = False
        replayed = await client.post(f"/admin/dead-letters/{event_id}/replay", headers=admin)
        assert replayed.status_code == 202

        async def took_effect() -> None:
            assert await harness.scalar("SELECT count(*) FROM effect") == 1
        await eventually(took_effect)
        assert (await client.get("/admin/dead-letters", headers=admin)).json()["items"] == []
        missing = await client.post(f"/admin/dead-letters/{event_id}/replay", headers=admin)
        assert missing.status_code == 404
