"""Batches' side of the saga: inventory's answers move a batch on.

- `StockDeducted`: pending -> in_progress with its consumption, lot by lot, and actual cost.
  A cancel asked for meanwhile publishes `BatchCancelled` now that there is stock to return;
  a variant of a split is finished at once with its variant output.
- `StockDeductionFailed`: pending -> failed with the shortages (cancelled, if a cancel was
  asked for meanwhile).
- `StockRestored`: cancelling -> cancelled.

The consumer's inbox keeps an event from acting twice; the state checks here keep a repeat
under another event id (inventory answering a resent start again) from acting twice too. An
answer for an unknown batch or one in another state is logged and acknowledged: retrying it
could never help. Nothing here commits; the consumer commits with the inbox row.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import structlog

from batches.finishing import OutputSpec, complete
from batches.models import Batch, BatchConsumption, BatchLine
from batches.outcomes import announce
from batches.service import publish_cancel
from batches.views import load_batch, load_batch_with_lines
from contracts import StockDeducted, StockDeductionFailed, StockRestored
from servicekit.db import UnitOfWork, utcnow
from servicekit.errors import NotFound

logger = structlog.get_logger("batches.saga")


async def _locked(uow: UnitOfWork, org_id: uuid.UUID, batch_id: uuid.UUID,
                  answer: str) -> Batch | None:
    try:
        return await load_batch(uow.session, org_id, batch_id, lock=True)
    except NotFound:
        _unknown(org_id, batch_id, answer)
        return None


def _unknown(org_id: uuid.UUID, batch_id: uuid.UUID, answer: str) -> None:
    logger.warning("answer for a batch this service does not know; ignored",
                   answer=answer, batch_id=str(batch_id), org_id=str(org_id))


def _ignored(batch: Batch, answer: str) -> None:
    logger.info("answer does not apply to the batch in its current state; ignored",
                answer=answer, batch_id=str(batch.id), status=batch.status)


async def stock_deducted(uow: UnitOfWork, org_id: uuid.UUID, event: StockDeducted) -> None:
    try:  # with its lines, which name each item's role, in the same statement
        batch, lines = await load_batch_with_lines(uow.session, org_id, event.batch_id,
                                                   lock=True)
    except NotFound:
        _unknown(org_id, event.batch_id, "StockDeducted")
        return
    if batch.deducted_at is not None:
        _ignored(batch, "StockDeducted")
        return
    now = utcnow()
    _record_consumption(uow, batch, lines, event)
    batch.deducted_at = now
    batch.updated_at = now
    if batch.status == "pending":
        batch.status = "in_progress"
        batch.started_at = now
        if batch.variant_output is not None:
            output = batch.variant_output
            complete(uow, batch, [OutputSpec(uuid.UUID(output["item_id"]),
                                             Decimal(output["quantity"]), output["unit"],
                                             notes=output.get("notes"))], now=now)
    elif batch.status == "cancelling":
        publish_cancel(uow, batch)
    else:
        # Stock was taken for a batch that has ended without it (failed, or cancelled before
        # the answer): hand it straight back rather than leave it taken by nothing.
        logger.warning("stock taken for a batch that has ended; returning it",
                       batch_id=str(batch.id), status=batch.status)
        publish_cancel(uow, batch)
    await announce(uow, batch)


def _record_consumption(uow: UnitOfWork, batch: Batch, lines: list[BatchLine],
                        event: StockDeducted) -> None:
    roles = {}
    for line in lines:
        roles.setdefault(line.item_id, line.role)
    uow.session.add_all([BatchConsumption(
        org_id=batch.org_id, batch_id=batch.id, item_id=line.item_id,
        role=roles.get(line.item_id, "ingredient"), lot_id=line.lot_id,
        lot_number=line.lot_number, quantity=line.quantity, unit=line.unit,
        unit_cost=line.unit_cost, cost=line.cost) for line in event.consumption])
    batch.actual_cost = sum((line.cost for line in event.consumption), Decimal(0))


async def stock_deduction_failed(uow: UnitOfWork, org_id: uuid.UUID,
                                 event: StockDeductionFailed) -> None:
    batch = await _locked(uow, org_id, event.batch_id, "StockDeductionFailed")
    if batch is None:
        return
    if batch.deducted_at is not None or batch.status not in ("pending", "cancelling"):
        _ignored(batch, "StockDeductionFailed")
        return
    now = utcnow()
    batch.shortages = [shortage.model_dump(mode="json") for shortage in event.shortages]
    batch.updated_at = now
    if batch.status == "pending":
        batch.status, batch.failed_at = "failed", now
    else:
        batch.status, batch.cancelled_at = "cancelled", now
    await announce(uow, batch)


async def stock_restored(uow: UnitOfWork, org_id: uuid.UUID, event: StockRestored) -> None:
    batch = await _locked(uow, org_id, event.batch_id, "StockRestored")
    if batch is None:
        return
    if batch.status != "cancelling" or batch.cancel_published_at is None:
        _ignored(batch, "StockRestored")
        return
    now = utcnow()
    batch.status, batch.cancelled_at, batch.updated_at = "cancelled", now, now
    await announce(uow, batch)
