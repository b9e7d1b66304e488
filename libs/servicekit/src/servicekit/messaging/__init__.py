"""Events between services: envelope, outbox, relay, inbox, consumer, transports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from servicekit.messaging.envelope import Envelope
from servicekit.messaging.handlers import HandlerRegistry
from servicekit.messaging.transport import Delivery, Disposition, PublishFailed, Transport

if TYPE_CHECKING:
    from servicekit.settings import ServiceSettings

__all__ = [
    "Delivery", "Disposition", "Envelope", "HandlerRegistry", "PublishFailed", "Transport",
    "create_transport",
]


def create_transport(settings: ServiceSettings) -> Transport:
    """The transport `settings.broker_url` names: `amqp://...` or `memory://`."""
    url = settings.broker_url
    if url.startswith("memory://"):
        from servicekit.messaging.memory import InMemoryTransport

        return InMemoryTransport(delivery_limit=settings.consumer_delivery_limit)
    if url.startswith(("amqp://", "amqps://")):
        from servicekit.messaging.rabbitmq import RabbitMQTransport

        return RabbitMQTransport(
            url,
            namespace=settings.broker_namespace,
            publish_timeout=settings.publish_timeout_seconds,
            delivery_limit=settings.consumer_delivery_limit,
            retry_delays=settings.consumer_retry_delays,
        )
    raise ValueError(f"unsupported broker URL scheme: {url.split(':', 1)[0]!r}")
