"""An in-process transport with RabbitMQ's semantics, for the embedded mode and fast tests.

It mirrors the RabbitMQ transport: a topic exchange with AMQP wildcards, messages dropped when
no queue is bound (a queue exists once subscribed, or declared without a consumer: then its
messages wait, as in a durable queue whose consumers are down), RETRY re-delivered after its
delay with the next attempt, DEAD_LETTER into a per-queue dead-letter list, and a callback
that raises re-delivered up to `delivery_limit` times before it is dead-lettered with reason
`delivery_limit`. Nothing survives the process: this is for one process that can lose its
in-flight messages (its outbox has already marked them sent).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import structlog

from servicekit.messaging.transport import (
    DeadLetter,
    Delivery,
    MessageCallback,
    PublishFailed,
    Verdict,
)

logger = structlog.get_logger("servicekit.memory_transport")


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: `*` stands for exactly one word, `#` for zero or more."""
    return _words_match(tuple(pattern.split(".")), tuple(routing_key.split(".")))


@functools.lru_cache(maxsize=4096)
def _words_match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_words_match(rest, words[skip:]) for skip in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _words_match(rest, words[1:])


@dataclass(frozen=True, slots=True)
class _Message:
    routing_key: str
    body: bytes
    message_id: str
    headers: dict[str, Any]
    attempt: int = 1
    redeliveries: int = 0  # failed deliveries of this copy, like a quorum queue's count


@dataclass(slots=True)
class _Queue:
    name: str
    patterns: list[str] = field(default_factory=list)
    inbox: asyncio.Queue[_Message] = field(default_factory=asyncio.Queue)

    def binds(self, routing_key: str) -> bool:
        return any(topic_matches(pattern, routing_key) for pattern in self.patterns)


class InMemoryTransport:
    """Transport within one process; each subscription is a worker task handling one message
    at a time (prefetch is accepted and ignored)."""

    def __init__(self, *, delivery_limit: int = 10) -> None:
        self._delivery_limit = delivery_limit
        self._connected = False
        self._queues: dict[str, _Queue] = {}
        # Each dead letter with the message it came from, so a replay carries its headers again.
        self._dead: dict[str, list[tuple[DeadLetter, _Message]]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()

    async def connect(self) -> None:
        self._connected = True

    @property
    def is_connected(self) -> bool:
        return self._connected

    async def publish(self, routing_key: str, body: bytes, *, message_id: str,
                      headers: dict[str, Any] | None = None) -> None:
        if not self._connected:
            raise PublishFailed("the in-memory transport is not connected")
        for queue in self._queues.values():
            if queue.binds(routing_key):
                queue.inbox.put_nowait(
                    _Message(routing_key, body, message_id, dict(headers or {})),
                )

    async def declare(self, queue: str, routing_keys: Sequence[str]) -> None:
        """Create `queue` bound to `routing_keys`, with no consumer: what is published meanwhile
        waits in it, as in a durable RabbitMQ queue whose consumers are down, until a
        subscribe() to the same queue delivers it."""
        self._bind(queue, routing_keys)

    async def subscribe(self, queue: str, routing_keys: Sequence[str],
                        callback: MessageCallback, *, prefetch: int = 16) -> None:
        bound = self._bind(queue, routing_keys)
        worker = asyncio.create_task(self._work(bound, callback), name=f"consume {queue}")
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    def _bind(self, queue: str, routing_keys: Sequence[str]) -> _Queue:
        """The queue named `queue` (kept with its waiting messages if it exists), bound to
        `routing_keys` as well."""
        if not self._connected:
            raise RuntimeError("InMemoryTransport is not connected; call connect() first")
        bound = self._queues.setdefault(queue, _Queue(queue))
        bound.patterns.extend(key for key in routing_keys if key not in bound.patterns)
        self._dead.setdefault(queue, [])
        return bound

    async def dead_letters(self, queue: str, limit: int = 100) -> list[DeadLetter]:
        return [letter for letter, _ in self._dead.get(queue, [])[:limit]]

    async def replay_dead_letter(self, queue: str, dead_letter_id: str) -> bool:
        entries = self._dead.get(queue, [])
        entry = next((entry for entry in entries if entry[0].id == dead_letter_id), None)
        if entry is None or queue not in self._queues:
            return False
        entries.remove(entry)
        self._queues[queue].inbox.put_nowait(replace(entry[1], attempt=1, redeliveries=0))
        return True

    async def close(self) -> None:
        if not self._connected:
            return
        self._connected = False
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        workers = list(self._workers)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._queues.clear()
        self._dead.clear()

    async def _work(self, queue: _Queue, callback: MessageCallback) -> None:
        while True:
            message = await queue.inbox.get()
            delivery = Delivery(
                body=message.body, routing_key=message.routing_key,
                message_id=message.message_id,
                attempt=message.attempt + message.redeliveries, headers=dict(message.headers),
            )
            try:
                disposition = await callback(delivery)
            except Exception:
                logger.exception("consumer callback raised", queue=queue.name,
                                 message_id=message.message_id, attempt=delivery.attempt)
                if message.redeliveries >= self._delivery_limit:
                    self._dead_letter(queue.name, message, delivery.attempt, "delivery_limit")
                else:
                    queue.inbox.put_nowait(replace(message, redeliveries=message.redeliveries + 1))
                continue
            if disposition.verdict is Verdict.RETRY:
                self._later(disposition.delay, queue,
                            replace(message, attempt=delivery.attempt + 1, redeliveries=0))
            elif disposition.verdict is Verdict.DEAD_LETTER:
                self._dead_letter(queue.name, message, delivery.attempt, disposition.reason or "")

    def _dead_letter(self, queue: str, message: _Message, attempts: int, reason: str) -> None:
        letter = DeadLetter(id=message.message_id, queue=queue, routing_key=message.routing_key,
                            body=message.body, reason=reason, attempts=attempts)
        self._dead.setdefault(queue, []).append((letter, message))

    def _later(self, delay: float, queue: _Queue, message: _Message) -> None:
        def fire() -> None:
            self._timers.discard(timer)
            queue.inbox.put_nowait(message)

        timer = asyncio.get_running_loop().call_later(max(delay, 0.0), fire)
        self._timers.add(timer)
