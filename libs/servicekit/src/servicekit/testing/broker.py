"""Removing what a test run declared on RabbitMQ (its namespace's exchanges and queues)."""

from __future__ import annotations

from collections.abc import Iterable

import aio_pika

from servicekit.messaging.rabbitmq import DLX_NAME
from servicekit.settings import ServiceSettings

SERVICE_QUEUES = tuple(
    f"{name}.events" for name in ("inventory", "recipes", "batches", "forecasting",
                                  "integrations")
)


def queue_names(namespace: str, queues: Iterable[str],
                retry_delays: Iterable[float]) -> list[str]:
    """Every queue RabbitMQTransport declares for `queues`: main, dead-letter and retry."""
    delays = list(retry_delays)
    names: list[str] = []
    for queue in queues:
        name = f"{namespace}{queue}"
        names += [name, f"{name}.dlq", *(f"{name}.retry.{round(d * 1000)}" for d in delays)]
    return names


async def delete_namespace(amqp_url: str, namespace: str,
                           queues: Iterable[str] = SERVICE_QUEUES,
                           retry_delays: Iterable[float] | None = None,
                           exchange: str = "smallbatch.events") -> None:
    if not namespace:
        raise ValueError("refusing to delete the shared (empty) namespace")
    if retry_delays is None:
        retry_delays = ServiceSettings().consumer_retry_delays
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in queue_names(namespace, queues, retry_delays):
            await channel.queue_delete(name)
        for name in (f"{namespace}{exchange}", f"{namespace}{DLX_NAME}"):
            await channel.exchange_delete(name)
