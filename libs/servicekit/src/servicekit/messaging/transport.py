"""The interface between Smallbatch's messaging semantics and a message broker.

Outbox, inbox, retry policy and dead-lettering decisions live above this interface (in the relay
and the consumer) so they behave the same on every transport. A transport only moves bytes:
it publishes an envelope under a routing key and confirms it, delivers messages of a queue to a
callback, and carries out the callback's verdict (ack, retry after a delay, or dead-letter).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class PublishFailed(Exception):
    """The broker did not confirm a publish in time (or refused it); the caller may retry."""


class Verdict(enum.Enum):
    ACK = "ack"
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True, slots=True)
class Disposition:
    verdict: Verdict
    delay: float = 0.0
    reason: str | None = None

    @classmethod
    def ack(cls) -> Disposition:
        return cls(Verdict.ACK)

    @classmethod
    def retry(cls, delay: float, reason: str) -> Disposition:
        return cls(Verdict.RETRY, delay=delay, reason=reason)

    @classmethod
    def dead_letter(cls, reason: str) -> Disposition:
        return cls(Verdict.DEAD_LETTER, reason=reason)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery of a message to a consumer.

    `attempt` counts from 1: the first delivery is attempt 1, the first retry attempt 2. It is
    carried in the `x-smallbatch-attempt` header across retries (and across broker-level
    redeliveries, which raise it too).
    """

    body: bytes
    routing_key: str
    message_id: str | None
    attempt: int
    headers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    queue: str
    routing_key: str
    body: bytes
    reason: str | None
    attempts: int


MessageCallback = Callable[[Delivery], Awaitable[Disposition]]


class Transport(Protocol):
    """A broker connection shared by one process's relay and consumers."""

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    @property
    def is_connected(self) -> bool: ...

    async def publish(self, routing_key: str, body: bytes, *, message_id: str,
                      headers: dict[str, Any] | None = None) -> None:
        """Publish persistently and wait for the broker's confirm; raise PublishFailed."""
        ...

    async def subscribe(self, queue: str, routing_keys: Sequence[str],
                        callback: MessageCallback, *, prefetch: int = 16) -> None:
        """Declare `queue` (durable) bound to `routing_keys` and its dead-letter queue
        `<queue>.dlq`, and deliver its messages to `callback` until close().

        The callback's Disposition decides: ACK removes the message; RETRY re-delivers it after
        `delay` seconds with `attempt + 1`; DEAD_LETTER moves it to `<queue>.dlq`. If the
        callback raises, the message is retried by the transport's broker-level safety net.
        """
        ...

    async def dead_letters(self, queue: str, limit: int = 100) -> list[DeadLetter]:
        """Peek at up to `limit` messages in `<queue>.dlq` without removing them."""
        ...

    async def replay_dead_letter(self, queue: str, dead_letter_id: str) -> bool:
        """Move one dead letter back to `queue` with its attempt count reset; False if absent."""
        ...
