"""The RabbitMQ transport: aio-pika's robust connection, quorum queues, TTL retry queues, a DLQ.

Topology for a consumer queue `inventory.events` (every name prefixed with `namespace`):

- `smallbatch.events` (topic) --binding per routing key--> `inventory.events` (quorum, with
  `x-delivery-limit` and a dead-letter exchange as the broker-level safety net for a message
  that keeps crashing its consumer);
- `inventory.events.retry.<ms>` (classic, one per delay level, `x-message-ttl` = ms): a RETRY is
  published here and dead-lettered back to `inventory.events` through the default exchange when
  it expires. One queue per level because a TTL only expires messages at the head of a queue;
  named by its delay so changing the levels never re-declares a queue with different arguments;
- `smallbatch.dlx` (direct) --`inventory.events.dlq`--> `inventory.events.dlq`.

Headers the transport owns (stripped from `Delivery.headers`): `x-smallbatch-attempt` (absent
means 1), `x-smallbatch-routing-key` (the original routing key, which a trip through a retry
queue or the DLQ replaces), `x-smallbatch-reason` (why a message was dead-lettered).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, TypeVar

import aio_pika
import aiormq.abc
import structlog
from aio_pika.abc import (
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    ConsumerTag,
)
from aio_pika.exceptions import ChannelNotFoundEntity

from servicekit.messaging.transport import (
    DeadLetter,
    Delivery,
    Disposition,
    MessageCallback,
    PublishFailed,
    Verdict,
)

logger = structlog.get_logger("servicekit.rabbitmq")
_T = TypeVar("_T")

ATTEMPT_HEADER = "x-smallbatch-attempt"
ROUTING_KEY_HEADER = "x-smallbatch-routing-key"
REASON_HEADER = "x-smallbatch-reason"
DLX_NAME = "smallbatch.dlx"

# Headers RabbitMQ adds on redelivery and dead-lettering; never handed to, or republished for,
# the application.
_BROKER_HEADERS = frozenset({
    "x-delivery-count", "x-death",
    "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
    "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason",
})
# How long close() lets in-flight callbacks finish before it closes their channels.
_DRAIN_TIMEOUT = 10.0


def _app_headers(headers: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value for key, value in headers.items()
        if key not in _BROKER_HEADERS and not key.startswith("x-smallbatch-")
    }


def _int_header(headers: dict[str, Any], key: str, default: int) -> int:
    try:
        return int(headers.get(key, default))
    except (TypeError, ValueError):
        return default


def _dead_letter_id(message: AbstractIncomingMessage) -> str:
    # Every message this transport publishes has a message_id; a body hash keeps foreign ones
    # addressable.
    return message.message_id or "sha256:" + hashlib.sha256(message.body).hexdigest()[:32]


class RabbitMQTransport:
    """Transport over RabbitMQ; see the module docstring for the topology it declares."""

    def __init__(self, url: str, *, namespace: str = "", exchange: str = "smallbatch.events",
                 publish_timeout: float = 5.0, delivery_limit: int = 10,
                 retry_delays: Sequence[float] = (1, 5, 30)) -> None:
        if not retry_delays:
            raise ValueError("retry_delays needs at least one delay level")
        self._url = url
        self._namespace = namespace
        self._exchange_name = namespace + exchange
        self._dlx_name = namespace + DLX_NAME
        self._publish_timeout = publish_timeout
        self._delivery_limit = delivery_limit
        self._retry_delays = tuple(sorted(float(delay) for delay in retry_delays))
        self._connection: aio_pika.RobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._subscriptions: list[_Subscription] = []

    async def connect(self) -> None:
        """Open the robust connection and the confirming publish channel; declare the exchange.

        Raises when the broker cannot be reached now; once connected, aio-pika reconnects on
        its own and restores channels, declarations and consumers.
        """
        if self._connection is not None:
            raise RuntimeError("RabbitMQTransport is already connected")
        connection = await aio_pika.connect_robust(self._url)
        try:
            channel = await connection.channel(publisher_confirms=True)
            self._exchange = await channel.declare_exchange(
                self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True,
            )
        except BaseException:
            await connection.close()
            raise
        self._connection, self._channel = connection, channel

    @property
    def is_connected(self) -> bool:
        connection = self._connection
        return (
            connection is not None
            and not connection.is_closed
            and connection.connected.is_set()
            and connection.transport is not None
            and not connection.transport.connection.is_closed
        )

    async def publish(self, routing_key: str, body: bytes, *, message_id: str,
                      headers: dict[str, Any] | None = None) -> None:
        exchange = self._exchange
        if exchange is None:
            raise PublishFailed("RabbitMQTransport is not connected")
        message = _message(body, message_id=message_id, headers=dict(headers or {}))
        await self._confirm(exchange.publish(message, routing_key, mandatory=False),
                            what=f"event {message_id} to {routing_key!r}")

    async def subscribe(self, queue: str, routing_keys: Sequence[str],
                        callback: MessageCallback, *, prefetch: int = 16) -> None:
        connection = self._require(self._connection)
        name = self._namespace + queue
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=prefetch)
        exchange = await channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True,
        )
        dlx = await channel.declare_exchange(
            self._dlx_name, aio_pika.ExchangeType.DIRECT, durable=True,
        )
        dlq = await channel.declare_queue(f"{name}.dlq", durable=True)
        await dlq.bind(dlx, f"{name}.dlq")
        main = await channel.declare_queue(name, durable=True, arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": self._delivery_limit,
            "x-dead-letter-exchange": self._dlx_name,
            "x-dead-letter-routing-key": f"{name}.dlq",
        })
        for routing_key in routing_keys:
            await main.bind(exchange, routing_key)
        retry_queues: dict[float, str] = {}
        for delay in self._retry_delays:
            retry_queue = await channel.declare_queue(
                f"{name}.retry.{round(delay * 1000)}", durable=True, arguments={
                    "x-message-ttl": round(delay * 1000),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": name,
                },
            )
            retry_queues[delay] = retry_queue.name
        subscription = _Subscription(self, channel, main, dlx, retry_queues, callback)
        self._subscriptions.append(subscription)
        await subscription.start()

    async def dead_letters(self, queue: str, limit: int = 100) -> list[DeadLetter]:
        letters: list[DeadLetter] = []
        async with self._browse(f"{self._namespace}{queue}.dlq") as dlq:
            # Unacked gets return to the queue, in their original order, when the channel closes.
            while dlq is not None and len(letters) < limit:
                message = await dlq.get(fail=False, timeout=self._publish_timeout)
                if message is None:
                    break
                letters.append(self._dead_letter(queue, message))
        return letters

    async def replay_dead_letter(self, queue: str, dead_letter_id: str) -> bool:
        publish_channel = self._require(self._channel)
        name = self._namespace + queue
        async with self._browse(f"{name}.dlq") as dlq:
            while dlq is not None:
                message = await dlq.get(fail=False, timeout=self._publish_timeout)
                if message is None:
                    return False
                if _dead_letter_id(message) != dead_letter_id:
                    continue
                letter = self._dead_letter(queue, message)
                headers = {**_app_headers(dict(message.headers)), ATTEMPT_HEADER: 1,
                           ROUTING_KEY_HEADER: letter.routing_key}
                replayed = _message(message.body, message_id=message.message_id,
                                    headers=headers, content_type=message.content_type)
                await self._confirm(
                    publish_channel.default_exchange.publish(replayed, name, mandatory=True),
                    what=f"replay of {dead_letter_id} to {name!r}",
                )
                await message.ack()
                return True
        return False

    async def close(self) -> None:
        """Stop consuming, let in-flight callbacks finish (and settle), then disconnect."""
        connection = self._connection
        if connection is None:
            return
        # While the broker is away a consumer cancel would wait for the reconnect; skip it,
        # nothing is being delivered then anyway.
        cancel_consumers = self.is_connected
        subscriptions, self._subscriptions = self._subscriptions, []
        self._connection = self._channel = self._exchange = None
        for subscription in subscriptions:
            await subscription.stop(cancel_consumer=cancel_consumers)
        await connection.close()

    # -- internals shared with _Subscription ---------------------------------------------------

    async def _confirm(self, publishing: Awaitable[Any], *, what: str) -> None:
        """Await a publish's confirm within publish_timeout; every failure is PublishFailed."""
        try:
            async with asyncio.timeout(self._publish_timeout):
                result = await publishing
        except Exception as exc:
            raise PublishFailed(f"{what} was not confirmed: {exc!r}") from exc
        if isinstance(result, aiormq.abc.DeliveredMessage):  # a mandatory publish came back
            raise PublishFailed(f"{what} was returned unroutable")

    def _dead_letter(self, queue: str, message: AbstractIncomingMessage) -> DeadLetter:
        headers = dict(message.headers)
        # x-death lists the broker's dead-letterings, most recent first. (x-first-death-reason
        # won't do: a retried message's first death is its expiry in a retry queue.)
        deaths = headers.get("x-death")
        if not isinstance(deaths, list) or not deaths:
            deaths = [{}]
        original_keys = deaths[-1].get("routing-keys")
        routing_key = str(
            headers.get(ROUTING_KEY_HEADER)
            or (original_keys[0] if original_keys else None)
            or message.routing_key
            or ""
        )
        attempts = _int_header(headers, ATTEMPT_HEADER, 1)
        reason = headers.get(REASON_HEADER)
        if reason is None:
            # Dead-lettered by the broker itself: `delivery_limit` after a crash loop of
            # 1 + delivery_limit deliveries (the dead-lettered copy carries no delivery count).
            reason = deaths[0].get("reason")
            if reason == "delivery_limit":
                attempts += self._delivery_limit
        return DeadLetter(
            id=_dead_letter_id(message), queue=queue, routing_key=routing_key,
            body=message.body, reason=None if reason is None else str(reason), attempts=attempts,
        )

    @contextlib.asynccontextmanager
    async def _browse(self, queue_name: str) -> AsyncIterator[AbstractQueue | None]:
        """A throwaway plain channel for basic_get on `queue_name` (None if it doesn't exist).

        Not a robust channel: the connection must not restore it, and a 404 must not reopen it.
        Closing it returns every unacked message to the queue.
        """
        channel = aio_pika.Channel(self._require(self._connection), publisher_confirms=False)
        await channel.initialize()
        try:
            try:
                queue: AbstractQueue | None = await channel.declare_queue(
                    queue_name, passive=True,
                )
            except ChannelNotFoundEntity:
                queue = None
            yield queue
        finally:
            if not channel.is_closed:
                await channel.close()

    @staticmethod
    def _require(value: _T | None) -> _T:
        if value is None:
            raise RuntimeError("RabbitMQTransport is not connected; call connect() first")
        return value


def _message(body: bytes, *, message_id: str | None, headers: dict[str, Any],
             content_type: str | None = None) -> aio_pika.Message:
    return aio_pika.Message(
        body, message_id=message_id, headers=headers,
        content_type=content_type or "application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


class _Subscription:
    """One consumer: turns broker messages into Deliveries and carries out Dispositions."""

    def __init__(self, transport: RabbitMQTransport, channel: AbstractRobustChannel,
                 queue: AbstractQueue, dlx: AbstractExchange, retry_queues: dict[float, str],
                 callback: MessageCallback) -> None:
        self._transport = transport
        self._channel = channel
        self._queue = queue
        self._dlx = dlx
        self._retry_queues = retry_queues
        self._callback = callback
        self._consumer_tag: ConsumerTag | None = None
        self._in_flight: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        # Consumers on a robust channel are re-registered by aio-pika after a reconnect.
        self._consumer_tag = await self._queue.consume(self._on_message)

    async def stop(self, *, cancel_consumer: bool) -> None:
        if cancel_consumer and self._consumer_tag is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await self._queue.cancel(self._consumer_tag)
        current = asyncio.current_task()
        pending = [task for task in self._in_flight if task is not current]
        if pending:
            await asyncio.wait(pending, timeout=_DRAIN_TIMEOUT)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await self._handle(message)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        delivery = self._delivery(message)
        try:
            disposition = await self._callback(delivery)
        except Exception:
            logger.exception("consumer callback raised; requeueing", queue=self._queue.name,
                             message_id=delivery.message_id, attempt=delivery.attempt)
            # The quorum queue counts this failure; past x-delivery-limit it dead-letters the
            # message. Reject, not nack: from RabbitMQ 4.3 only basic.reject counts as a failed
            # delivery (a nack is a neutral "give it back"), while both count on older brokers.
            await self._settle(message.reject(requeue=True), message)
            return
        try:
            await self._carry_out(disposition, delivery, message)
        except PublishFailed:
            # The broker, not the message, failed: hand it back without counting a failure.
            logger.warning("could not carry out the verdict; requeueing", exc_info=True,
                           verdict=disposition.verdict.value, queue=self._queue.name,
                           message_id=delivery.message_id)
            await self._settle(message.nack(requeue=True), message)
            return
        await self._settle(message.ack(), message)

    def _delivery(self, message: AbstractIncomingMessage) -> Delivery:
        headers = dict(message.headers)
        # A quorum queue counts earlier deliveries of this copy in x-delivery-count.
        attempt = (_int_header(headers, ATTEMPT_HEADER, 1)
                   + _int_header(headers, "x-delivery-count", 0))
        routing_key = str(headers.get(ROUTING_KEY_HEADER) or message.routing_key or "")
        return Delivery(body=message.body, routing_key=routing_key,
                        message_id=message.message_id, attempt=attempt,
                        headers=_app_headers(headers))

    async def _carry_out(self, disposition: Disposition, delivery: Delivery,
                         message: AbstractIncomingMessage) -> None:
        if disposition.verdict is Verdict.RETRY:
            delays = sorted(self._retry_queues)
            level = next((delay for delay in delays if delay >= disposition.delay), delays[-1])
            target = self._retry_queues[level]
            headers = {**delivery.headers, ATTEMPT_HEADER: delivery.attempt + 1,
                       ROUTING_KEY_HEADER: delivery.routing_key}
            await self._transport._confirm(
                self._channel.default_exchange.publish(
                    _message(message.body, message_id=message.message_id, headers=headers,
                             content_type=message.content_type),
                    target, mandatory=True,
                ),
                what=f"retry of {delivery.message_id} to {target!r}",
            )
        elif disposition.verdict is Verdict.DEAD_LETTER:
            target = f"{self._queue.name}.dlq"
            headers = {**delivery.headers, ATTEMPT_HEADER: delivery.attempt,
                       ROUTING_KEY_HEADER: delivery.routing_key,
                       REASON_HEADER: disposition.reason or ""}
            await self._transport._confirm(
                self._dlx.publish(
                    _message(message.body, message_id=message.message_id, headers=headers,
                             content_type=message.content_type),
                    target, mandatory=True,
                ),
                what=f"dead-lettering of {delivery.message_id} to {target!r}",
            )

    async def _settle(self, settling: Awaitable[None], message: AbstractIncomingMessage) -> None:
        try:
            await settling
        except Exception:
            # The channel this message came on is gone; the broker redelivers it, and the
            # inbox makes the second delivery harmless.
            logger.warning("could not settle a message; the broker will redeliver it",
                           exc_info=True, queue=self._queue.name, message_id=message.message_id)
