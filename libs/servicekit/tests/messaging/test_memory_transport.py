"""The in-process transport's declared queues: a service's queue that exists while its
consumer is down holds what is published meanwhile, as a durable RabbitMQ queue does."""

from collections.abc import AsyncIterator

import pytest

from servicekit.messaging.memory import InMemoryTransport
from servicekit.messaging.transport import Delivery, Disposition
from servicekit.testing.plugin import eventually


@pytest.fixture
async def transport() -> AsyncIterator[InMemoryTransport]:
    transport = InMemoryTransport()
    await transport.connect()
    yield transport
    await transport.close()


class Received:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, delivery: Delivery) -> Disposition:
        self.bodies.append(delivery.body)
        return Disposition.ack()


async def publish(transport: InMemoryTransport, routing_key: str, body: bytes) -> None:
    await transport.publish(routing_key, body, message_id=body.decode())


async def test_a_declared_queue_keeps_what_was_published_until_a_consumer_subscribes(
    transport: InMemoryTransport,
) -> None:
    await transport.declare("stock.events", ["batches.*.v1"])
    await publish(transport, "batches.BatchStarted.v1", b"first")
    await publish(transport, "orders.OrderPlaced.v1", b"not bound")
    await publish(transport, "batches.BatchCancelled.v1", b"second")
    received = Received()

    await transport.subscribe("stock.events", ["batches.*.v1"], received)
    await publish(transport, "batches.BatchFinished.v1", b"third")

    async def all_three_in_order() -> None:
        assert received.bodies == [b"first", b"second", b"third"]
    await eventually(all_three_in_order)


async def test_a_subscription_adds_its_keys_to_a_declared_queue_and_keeps_its_messages(
    transport: InMemoryTransport,
) -> None:
    await transport.declare("stock.events", ["batches.BatchStarted.v1"])
    await publish(transport, "batches.BatchStarted.v1", b"waiting")
    received = Received()

    await transport.subscribe("stock.events", ["orders.OrderPlaced.v1"], received)
    await publish(transport, "orders.OrderPlaced.v1", b"newly bound")
    await publish(transport, "batches.BatchStarted.v1", b"still bound")

    async def every_key_delivered() -> None:
        assert received.bodies == [b"waiting", b"newly bound", b"still bound"]
    await eventually(every_key_delivered)


async def test_without_a_declaration_or_a_subscription_a_message_is_dropped(
    transport: InMemoryTransport,
) -> None:
    await publish(transport, "batches.BatchStarted.v1", b"lost")
    received = Received()

    await transport.subscribe("stock.events", ["batches.BatchStarted.v1"], received)
    await publish(transport, "batches.BatchStarted.v1", b"kept")

    async def only_the_later_one() -> None:
        assert received.bodies == [b"kept"]
    await eventually(only_the_later_one)


async def test_declaring_needs_a_connected_transport() -> None:
    with pytest.raises(RuntimeError, match="not connected"):
        await InMemoryTransport().declare("stock.events", ["batches.#"])
