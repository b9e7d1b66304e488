"""Inbound events. Each handler runs in a unit of work with the inbox; it takes effect once.

The consumer commits after a handler returns (effect, outbox rows and inbox row together), so
handlers never commit. The organization always comes from the envelope, never the payload.
"""

from __future__ import annotations

import uuid

from contracts import BatchCancelled, BatchFinished, BatchStarted
from inventory.stock import production
from servicekit.db import UnitOfWork
from servicekit.messaging import Envelope, HandlerRegistry

handlers = HandlerRegistry()


@handlers.on(BatchStarted)
async def deduct_batch_stock(uow: UnitOfWork, event: BatchStarted, envelope: Envelope) -> None:
    await production.deduct_for_batch(uow, uuid.UUID(envelope.orgid), event)


@handlers.on(BatchFinished)
async def receive_batch_outputs(uow: UnitOfWork, event: BatchFinished,
                                envelope: Envelope) -> None:
    await production.receive_outputs(uow, uuid.UUID(envelope.orgid), event)


@handlers.on(BatchCancelled)
async def restore_batch_stock(uow: UnitOfWork, event: BatchCancelled,
                              envelope: Envelope) -> None:
    await production.restore_batch(uow, uuid.UUID(envelope.orgid), event)
