"""The consumer: runs each delivered event's handlers once, retries, then dead-letters.

Acknowledgement follows the commit: the transport acks only after `on_delivery` returns, and
that happens after the handler's unit of work (effect plus inbox row) has committed.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import sqlalchemy as sa
import structlog
from pydantic import ValidationError
from sqlalchemy.dialects import postgresql, sqlite

from servicekit.db import Database, EventContext, utcnow
from servicekit.messaging.envelope import Envelope
from servicekit.messaging.handlers import HandlerRegistry, RegisteredHandler
from servicekit.messaging.tables import inbox
from servicekit.messaging.transport import Delivery, Disposition, Transport
from servicekit.metrics import ServiceMetrics

logger = structlog.get_logger("servicekit.consumer")


class InvalidPayload(Exception):
    """The event's data does not match its contract: no retry can help."""


class EventConsumer:
    def __init__(self, db: Database, transport: Transport, queue: str,
                 handlers: HandlerRegistry, *, max_attempts: int = 5,
                 retry_delays: Sequence[float] = (1.0, 5.0, 30.0, 120.0),
                 prefetch: int = 16, metrics: ServiceMetrics | None = None) -> None:
        self.db = db
        self.transport = transport
        self.queue = queue
        self.handlers = handlers
        self.max_attempts = max_attempts
        self.retry_delays = list(retry_delays) or [1.0]
        self.prefetch = prefetch
        self.metrics = metrics

    async def start(self) -> None:
        await self.transport.subscribe(self.queue, self.handlers.routing_keys,
                                       self.on_delivery, prefetch=self.prefetch)

    async def on_delivery(self, delivery: Delivery) -> Disposition:
        try:
            envelope = Envelope.from_bytes(delivery.body)
        except ValidationError as exc:
            logger.error("malformed event; dead-lettering", error=str(exc))
            return Disposition.dead_letter(f"malformed envelope: {exc.error_count()} errors")
        log = logger.bind(event_id=envelope.id, event_type=envelope.type,
                          correlation_id=envelope.correlationid, attempt=delivery.attempt)
        applied = False
        try:
            for handler in self.handlers.for_type(envelope.type):
                applied |= await self._run_once(handler, envelope)
        except InvalidPayload as exc:
            self._count(envelope.type, "dead_lettered")
            log.error("event payload does not match its contract; dead-lettering",
                      error=str(exc.__cause__))
            return Disposition.dead_letter(str(exc))
        except Exception as exc:
            if self.metrics is not None:
                self.metrics.events_failed.labels(envelope.type).inc()
            reason = f"{type(exc).__name__}: {exc}"[:500]
            if delivery.attempt >= self.max_attempts:
                self._count(envelope.type, "dead_lettered")
                log.exception("handler failed for the last time; dead-lettering")
                return Disposition.dead_letter(reason)
            delay = self.retry_delays[min(delivery.attempt - 1, len(self.retry_delays) - 1)]
            log.warning("handler failed; retrying", error=reason, retry_in=delay)
            return Disposition.retry(delay, reason)
        self._count(envelope.type, "handled" if applied else "duplicate")
        return Disposition.ack()

    async def _run_once(self, handler: RegisteredHandler, envelope: Envelope) -> bool:
        """Run `handler` unless the inbox shows it already ran; True when it ran now."""
        try:
            event = handler.event_class.model_validate(envelope.data)
        except ValidationError as exc:
            raise InvalidPayload(f"invalid payload: {exc.error_count()} errors") from exc
        context = EventContext(org_id=envelope.orgid, correlation_id=envelope.correlationid,
                               causation_id=envelope.id)
        async with self.db.unit_of_work(context) as uow:
            if not await claim_inbox(uow.session, envelope, handler.name, self.db.is_sqlite):
                return False
            await handler.fn(uow, event, envelope)
            await uow.commit()
        return True

    def _count(self, event_type: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.events_consumed.labels(event_type, outcome).inc()


async def claim_inbox(session: sa.ext.asyncio.AsyncSession, envelope: Envelope,
                      handler: str, is_sqlite: bool) -> bool:
    """Record (event, handler) in the inbox; False when it was already recorded.

    A concurrent duplicate waits on the primary key until the first transaction ends, then
    finds the row and backs off.
    """
    result = await session.execute(_inbox_claim(is_sqlite), {
        "event_id": envelope.id, "handler": handler, "org_id": envelope.orgid,
        "event_type": envelope.type, "processed_at": utcnow()})
    return result.rowcount == 1


@functools.cache
def _inbox_claim(is_sqlite: bool) -> sa.Insert:
    # Built once per dialect, its values bound per execution: it runs for every delivery.
    dialect_insert = sqlite.insert if is_sqlite else postgresql.insert
    return dialect_insert(inbox).on_conflict_do_nothing(index_elements=["event_id", "handler"])
