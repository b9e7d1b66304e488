"""What every event payload shares: tolerant, immutable models and a registry by routing key.

A concrete event names its producer, its type and its major version in class variables; defining
the class registers it under `<service>.<EventName>.v<N>`, the routing key and the CloudEvents
`type` it travels under. A breaking change is a new class with the next `event_version`,
published alongside the old one until every consumer has moved.
"""

from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

# Exact decimals. Producers dump them as JSON strings ("0.3"), which round-trip exactly; numbers
# and strings are both accepted on the way in, but a JSON number is read as a float first, so
# only strings are exact beyond float precision. NaN and infinities are refused.
Quantity = Annotated[Decimal, Field(allow_inf_nan=False)]
Money = Annotated[Decimal, Field(allow_inf_nan=False)]
# A unit symbol (`g`, `ml`, `count`) or an item's own count unit (`bars`).
Unit = Annotated[str, Field(min_length=1, max_length=32)]


class EventPart(BaseModel):
    """A nested piece of a payload (a line, a shortage), read as tolerantly as the event."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Event(BaseModel):
    """Base of every event payload. Unknown fields are ignored so producers can add fields
    without breaking consumers; anything else is a new version."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # Not `name` and `version`: payloads carry fields of those names (an item's name, a
    # recipe's version).
    source_service: ClassVar[str]
    event_name: ClassVar[str]
    event_version: ClassVar[int]

    @classmethod
    def routing_key(cls) -> str:
        return f"{cls.source_service}.{cls.event_name}.v{cls.event_version}"

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # Runs once pydantic has finished building the class. Intermediate bases that do not
        # name a type and version yet are not registered.
        super().__pydantic_init_subclass__(**kwargs)
        if not all(hasattr(cls, a) for a in ("source_service", "event_name", "event_version")):
            return
        key = cls.routing_key()
        registered = EVENT_TYPES.setdefault(key, cls)
        if registered is not cls:
            raise TypeError(
                f"routing key {key!r} is already taken by "
                f"{registered.__module__}.{registered.__qualname__}"
            )


EVENT_TYPES: dict[str, type[Event]] = {}


def event_class(routing_key: str) -> type[Event]:
    """The payload model for a routing key such as `batches.BatchStarted.v1`."""
    try:
        return EVENT_TYPES[routing_key]
    except KeyError:
        raise KeyError(f"no event type is registered for routing key {routing_key!r}") from None
