"""Inbound events. Each handler runs in a unit of work with the inbox; it takes effect once.

The consumer commits after a handler returns (effect, outbox rows and inbox row together), so
handlers never commit. The organization always comes from the envelope, never the payload.
"""

from __future__ import annotations

import uuid

from batches import saga
from contracts import StockDeducted, StockDeductionFailed, StockRestored
from servicekit.db import UnitOfWork
from servicekit.messaging import Envelope, HandlerRegistry

handlers = HandlerRegistry()


@handlers.on(StockDeducted)
async def record_stock_deducted(uow: UnitOfWork, event: StockDeducted,
                                envelope: Envelope) -> None:
    await saga.stock_deducted(uow, uuid.UUID(envelope.orgid), event)


@handlers.on(StockDeductionFailed)
async def record_stock_deduction_failed(uow: UnitOfWork, event: StockDeductionFailed,
                                        envelope: Envelope) -> None:
    await saga.stock_deduction_failed(uow, uuid.UUID(envelope.orgid), event)


@handlers.on(StockRestored)
async def record_stock_restored(uow: UnitOfWork, event: StockRestored,
                                envelope: Envelope) -> None:
    await saga.stock_restored(uow, uuid.UUID(envelope.orgid), event)
