"""Registering event handlers by event type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from servicekit.messaging.envelope import Envelope

if TYPE_CHECKING:
    from contracts import Event
    from servicekit.db import UnitOfWork

E = TypeVar("E", bound="Event")
Handler = Callable[["UnitOfWork", Any, Envelope], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RegisteredHandler:
    name: str
    event_class: type[Event]
    fn: Handler


class HandlerRegistry:
    """Maps event types to handlers. A handler runs inside a unit of work whose commit also
    records the event in the inbox, so it takes effect once however often it is delivered.

        handlers = HandlerRegistry()

        @handlers.on(BatchStarted)
        async def deduct_stock(uow: UnitOfWork, event: BatchStarted, envelope: Envelope): ...
    """

    def __init__(self) -> None:
        self._by_type: dict[str, list[RegisteredHandler]] = {}

    def on(self, event_class: type[E]) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            name = f"{fn.__module__}.{fn.__qualname__}"
            self._by_type.setdefault(event_class.routing_key(), []).append(
                RegisteredHandler(name, event_class, fn)
            )
            return fn

        return register

    def for_type(self, routing_key: str) -> list[RegisteredHandler]:
        return self._by_type.get(routing_key, [])

    @property
    def routing_keys(self) -> list[str]:
        return sorted(self._by_type)

    def __bool__(self) -> bool:
        return bool(self._by_type)
