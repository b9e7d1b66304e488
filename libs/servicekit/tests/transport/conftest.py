"""Transports under test: connected, closed afterwards, and their RabbitMQ topology deleted."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import pytest

from servicekit.messaging.memory import InMemoryTransport
from servicekit.messaging.rabbitmq import RabbitMQTransport
from servicekit.messaging.transport import Transport
from servicekit.testing.broker import delete_namespace
from servicekit.testing.servers import AMQP_URL, require_server
from servicekit.testing.tcpproxy import TCPProxy

QUEUE = "orders.events"
EXCHANGE = "smallbatch.events"
RETRY_DELAYS = (0.2, 0.5)

TransportFactory = Callable[..., Awaitable[Transport]]


class OpenedTransports:
    """Makes connected transports of one kind and tears them down after the test."""

    def __init__(self, kind: str, namespace: str) -> None:
        self.kind = kind
        self.namespace = namespace
        self.opened: list[Transport] = []
        self.retry_delays: set[float] = set()

    async def open(self, *, url: str = AMQP_URL, delivery_limit: int = 10,
                   retry_delays: Sequence[float] = RETRY_DELAYS,
                   publish_timeout: float = 1.0) -> Transport:
        transport: Transport
        if self.kind == "memory":
            transport = InMemoryTransport(delivery_limit=delivery_limit)
        else:
            transport = RabbitMQTransport(
                url, namespace=self.namespace, exchange=EXCHANGE,
                publish_timeout=publish_timeout, delivery_limit=delivery_limit,
                retry_delays=retry_delays,
            )
            self.retry_delays.update(retry_delays)
        await transport.connect()
        self.opened.append(transport)
        return transport

    async def close(self) -> None:
        for transport in self.opened:
            await transport.close()
        if self.kind == "rabbitmq":
            await self._delete_topology()

    async def _delete_topology(self) -> None:
        await delete_namespace(AMQP_URL, self.namespace, [QUEUE], self.retry_delays, EXCHANGE)


@contextlib.asynccontextmanager
async def _opened(kind: str, namespace: str) -> AsyncIterator[TransportFactory]:
    if kind == "rabbitmq":
        require_server("RabbitMQ", AMQP_URL)
    transports = OpenedTransports(kind, namespace)
    try:
        yield transports.open
    finally:
        await transports.close()


@pytest.fixture(params=["memory", "rabbitmq"])
async def open_transport(request: pytest.FixtureRequest,
                         broker_namespace: str) -> AsyncIterator[TransportFactory]:
    """open_transport(delivery_limit=..., retry_delays=...) -> a connected transport, of
    each kind in turn."""
    async with _opened(request.param, broker_namespace) as factory:
        yield factory


@pytest.fixture
async def open_rabbitmq(broker_namespace: str) -> AsyncIterator[TransportFactory]:
    """open_rabbitmq(url=..., ...) -> a connected RabbitMQTransport in this test's namespace."""
    async with _opened("rabbitmq", broker_namespace) as factory:
        yield factory


@pytest.fixture
async def broker_proxy() -> AsyncIterator[TCPProxy]:
    """A TCPProxy in front of the test RabbitMQ."""
    require_server("RabbitMQ", AMQP_URL)
    target = urlsplit(AMQP_URL)
    proxy = TCPProxy(target.hostname or "127.0.0.1", target.port or 5672)
    await proxy.start()
    yield proxy
    await proxy.close()

@pytest.fixture
def queue() -> str:
    """The consumer queue every transport test uses (its topology is what teardown deletes)."""
    return QUEUE
