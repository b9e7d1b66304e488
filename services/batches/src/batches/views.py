"""Reading batches: one in full (lines, outputs, costing, variants), lists, what a batch took
from inventory lot by lot, and its containers."""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from batches import domain
from batches.errors import BatchNotFound, json_number
from batches.models import Batch, BatchConsumption, BatchLine, BatchOutput, ContainerAdjustment
from batches.outcomes import BatchState
from batches.schemas import (
    BatchContainers,
    BatchRead,
    BatchStatus,
    BatchSummary,
    ContainerAdjustmentRead,
    ContainerUse,
    CostingRead,
    InventorySummary,
    ItemUse,
    LineRead,
    LotUse,
    OutputRead,
    PortioningRead,
    ShortageRead,
    VariantRef,
    WasteRead,
)
from contracts import PlanSnapshot
from servicekit.pagination import Page, PageParams, paginate

ZERO = Decimal(0)


async def load_batch(session: AsyncSession, org_id: uuid.UUID, batch_id: uuid.UUID, *,
                     lock: bool = False) -> Batch:
    """The organization's batch (locked for update when asked), or BatchNotFound."""
    query = sa.select(Batch).where(Batch.org_id == org_id, Batch.id == batch_id)
    if lock:
        query = query.with_for_update()
    batch = await session.scalar(query)
    if batch is None:
        raise BatchNotFound(details={"batch_id": str(batch_id)})
    return batch


async def load_batch_with_lines(session: AsyncSession, org_id: uuid.UUID,
                                batch_id: uuid.UUID, *, lock: bool = False,
                                ) -> tuple[Batch, list[BatchLine]]:
    """The organization's batch and its lines, in one statement (the batch locked for update
    when asked), or BatchNotFound."""
    rows = (await session.execute(_with_lines(lock),
                                  {"org_id": org_id, "batch_id": batch_id})).all()
    if not rows:
        raise BatchNotFound(details={"batch_id": str(batch_id)})
    return rows[0][0], [line for _, line in rows if line is not None]


@functools.cache
def _with_lines(lock: bool) -> sa.Select[tuple[Batch, BatchLine]]:
    # Built once, its values bound at each execution: every start reads it, and every answer.
    query = (
        sa.select(Batch, BatchLine)
        .outerjoin(BatchLine, sa.and_(BatchLine.org_id == Batch.org_id,
                                      BatchLine.batch_id == Batch.id))
        .where(Batch.org_id == sa.bindparam("org_id"), Batch.id == sa.bindparam("batch_id"))
        .order_by(BatchLine.position))
    return query.with_for_update(of=Batch) if lock else query


async def batch_lines(session: AsyncSession, batch: Batch) -> list[BatchLine]:
    return list(await session.scalars(
        sa.select(BatchLine).where(BatchLine.org_id == batch.org_id,
                                   BatchLine.batch_id == batch.id)
        .order_by(BatchLine.position)))


async def batch_read(session: AsyncSession, org_id: uuid.UUID, batch_id: uuid.UUID,
                     ) -> BatchRead:
    batch, lines = await load_batch_with_lines(session, org_id, batch_id)
    if batch.status != "finished":  # only a finished batch has outputs, or variants
        return to_read(batch, lines, [], [])
    outputs = list(await session.scalars(
        sa.select(BatchOutput).where(BatchOutput.org_id == org_id,
                                     BatchOutput.batch_id == batch.id)
        .order_by(BatchOutput.position)))
    variants = (await session.execute(
        sa.select(Batch.id, Batch.code, Batch.status)
        .where(Batch.org_id == org_id, Batch.parent_batch_id == batch.id)
        .order_by(Batch.code))).all()
    return to_read(batch, lines, outputs, [VariantRef(id=v.id, code=v.code, status=v.status)
                                           for v in variants])


def to_read(batch: Batch, lines: list[BatchLine], outputs: list[BatchOutput],
            variants: list[VariantRef]) -> BatchRead:
    names = {line.item_id: line.item_name for line in lines}
    figures = domain.costing(
        estimated=batch.estimated_cost, actual=batch.actual_cost,
        projected_yield=batch.projected_yield, projected_unit=batch.projected_yield_unit,
        actual_yield=batch.yield_quantity, actual_unit=batch.yield_unit,
        portion_count=batch.portion_count if batch.is_portioned else None,
        portion_name=batch.portion_name if batch.is_portioned else None)
    summary = BatchSummary.model_validate(batch)
    return BatchRead(
        **summary.model_dump(),
        portioning=PortioningRead(is_portioned=batch.is_portioned,
                                  portion_name=batch.portion_name,
                                  portion_count=batch.portion_count),
        lines=[LineRead.model_validate(line) for line in lines],
        shortages=None if batch.shortages is None else [
            ShortageRead(**s, item_name=names.get(uuid.UUID(s["item_id"])))
            for s in batch.shortages],
        outputs=[OutputRead.model_validate(output) for output in outputs],
        waste=None if batch.waste_quantity is None else WasteRead(
            quantity=batch.waste_quantity, unit=batch.waste_unit or "",
            notes=batch.waste_notes),
        batch_notes=batch.batch_notes, cancel_reason=batch.cancel_reason,
        costing=CostingRead(**asdict(figures), cost_complete=batch.cost_complete),
        variants=variants, plan_snapshot=_shown_plan(batch.plan_snapshot),
        updated_at=batch.updated_at,
    )


def _shown_plan(stored: dict[str, Any]) -> dict[str, Any]:
    """The plan as clients sent it: stored exactly (decimals as strings, the contract's JSON),
    shown with plain JSON numbers like every other figure."""
    try:
        plan = PlanSnapshot.model_validate(stored)
    except ValidationError:  # a variant's record of its base, not a plan
        return stored
    return _plain(plan.model_dump(mode="python"))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def list_batches(session: AsyncSession, org_id: uuid.UUID, params: PageParams, *,
                       statuses: list[BatchStatus] | None = None,
                       recipe_id: uuid.UUID | None = None, date_from: date | None = None,
                       date_to: date | None = None, search: str | None = None,
                       parent_batch_id: uuid.UUID | None = None) -> Page[BatchSummary]:
    """Newest first. Dates are UTC days of the batch's start request, both ends included."""
    query = sa.select(Batch).where(Batch.org_id == org_id)
    if statuses:
        query = query.where(Batch.status.in_(statuses))
    if recipe_id is not None:
        query = query.where(Batch.recipe_id == recipe_id)
    if date_from is not None:
        query = query.where(Batch.created_at >= datetime.combine(date_from, time.min, UTC))
    if date_to is not None:
        query = query.where(
            Batch.created_at < datetime.combine(date_to + timedelta(days=1), time.min, UTC))
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(sa.or_(Batch.code.ilike(pattern, escape="\\"),
                                   Batch.recipe_name.ilike(pattern, escape="\\")))
    if parent_batch_id is not None:
        query = query.where(Batch.parent_batch_id == parent_batch_id)
    query = query.order_by(Batch.created_at.desc(), Batch.code.desc())
    return await paginate(session, query, params, BatchSummary.model_validate)


async def consumption(session: AsyncSession, batch: Batch) -> list[BatchConsumption]:
    return list(await session.scalars(
        sa.select(BatchConsumption)
        .where(BatchConsumption.org_id == batch.org_id, BatchConsumption.batch_id == batch.id)
        .order_by(BatchConsumption.id)))


def _lot_use(row: BatchConsumption) -> LotUse:
    return LotUse(lot_id=row.lot_id, lot_number=row.lot_number, quantity=row.quantity,
                  unit=row.unit, unit_cost=row.unit_cost, cost=row.cost)


async def inventory_summary(session: AsyncSession, org_id: uuid.UUID,
                            batch_id: uuid.UUID) -> InventorySummary:
    """Seed 000's batch inventory summary: each lot taken, grouped by item, with totals.
    Empty until inventory has answered (and for a batch that failed)."""
    batch = await load_batch(session, org_id, batch_id)
    names = {line.item_id: line.item_name for line in await batch_lines(session, batch)}
    by_item: dict[uuid.UUID, list[BatchConsumption]] = defaultdict(list)
    for row in await consumption(session, batch):
        by_item[row.item_id].append(row)
    items = [ItemUse(
        item_id=item_id, item_name=names.get(item_id), role=rows[0].role, unit=rows[0].unit,
        quantity=sum((r.quantity for r in rows), ZERO), cost=sum((r.cost for r in rows), ZERO),
        lots=[_lot_use(r) for r in rows]) for item_id, rows in by_item.items()]
    return InventorySummary(batch_id=batch.id, batch_code=batch.code, status=batch.status,
                            items=items, total_cost=sum((i.cost for i in items), ZERO))


async def batch_containers(session: AsyncSession, org_id: uuid.UUID,
                           batch_id: uuid.UUID) -> BatchContainers:
    batch = await load_batch(session, org_id, batch_id)
    planned: dict[uuid.UUID, tuple[str | None, Decimal]] = {}
    for line in await batch_lines(session, batch):
        if line.role == "container":
            name, quantity = planned.get(line.item_id, (line.item_name, ZERO))
            planned[line.item_id] = (name, quantity + line.quantity)
    taken: dict[uuid.UUID, list[BatchConsumption]] = defaultdict(list)
    for row in await consumption(session, batch):
        if row.role == "container":
            taken[row.item_id].append(row)
    adjustments: dict[uuid.UUID, list[ContainerAdjustment]] = defaultdict(list)
    for adjustment in await session.scalars(
            sa.select(ContainerAdjustment)
            .where(ContainerAdjustment.org_id == org_id, ContainerAdjustment.batch_id == batch.id)
            .order_by(ContainerAdjustment.created_at)):
        adjustments[adjustment.container_id].append(adjustment)
    uses = []
    for container_id in [*planned, *(c for c in adjustments if c not in planned)]:
        name, planned_quantity = planned.get(container_id, (None, ZERO))
        rows = taken.get(container_id, [])
        deducted = sum((r.quantity for r in rows), ZERO)
        signed = sum((a.quantity if a.reason != "unused" else -a.quantity
                      for a in adjustments[container_id]), ZERO)
        uses.append(ContainerUse(
            container_id=container_id, name=name, planned_quantity=planned_quantity,
            deducted_quantity=deducted, lots=[_lot_use(r) for r in rows],
            cost=sum((r.cost for r in rows), ZERO),
            adjustments=[ContainerAdjustmentRead.model_validate(a)
                         for a in adjustments[container_id]],
            quantity_used=(deducted if rows else planned_quantity) + signed))
    return BatchContainers(batch_id=batch.id, batch_code=batch.code, containers=uses,
                           total_cost=sum((u.cost for u in uses), ZERO))


async def states(session: AsyncSession, org_id: uuid.UUID,
                 batch_ids: list[uuid.UUID]) -> dict[uuid.UUID, BatchState]:
    """What a waiting request needs of these batches (those that exist)."""
    rows = await session.execute(
        sa.select(Batch.id, Batch.status, Batch.deducted_at)
        .where(Batch.org_id == org_id, Batch.id.in_(batch_ids)))
    return {row.id: BatchState(row.status, row.deducted_at is not None) for row in rows}
