"""Use cases that begin and end a batch's life: start it, cancel it, note container changes.

Each owns its transaction: the batch's state change and the event it publishes commit
together (the outbox), and nothing here waits for inventory; the routes do that afterwards.
"""

from __future__ import annotations

import functools
import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from batches import domain, idempotency
from batches.errors import BatchStateConflict, ContainerNotInBatch
from batches.models import Batch, BatchCodeSequence, BatchLine, ContainerAdjustment
from batches.outcomes import announce
from batches.schemas import CancelRequest, ContainerAdjustmentCreate, StartRequest
from batches.views import batch_lines, load_batch
from contracts import BatchCancelled, BatchStarted, PlanSnapshot
from contracts.batches import BatchLine as StartedLine
from servicekit.db import UnitOfWork, utcnow
from servicekit.identity import Caller


async def next_code_number(uow: UnitOfWork, org_id: uuid.UUID, prefix: str, day: date) -> int:
    """The next number of the (organization, prefix, day) sequence. The upsert holds the
    sequence row's lock until the transaction ends, so concurrent starts never share one."""
    numbered = await uow.session.execute(_next_number(uow.db.is_sqlite), {
        "org_id": org_id, "prefix": prefix, "day": day, "last_number": 1})
    return int(numbered.scalar_one())


@functools.cache
def _next_number(is_sqlite: bool) -> sa.Insert:
    # Built once per dialect, its values bound at each execution: every start runs it.
    dialect_insert = sqlite.insert if is_sqlite else postgresql.insert
    return dialect_insert(BatchCodeSequence).on_conflict_do_update(
        index_elements=["org_id", "prefix", "day"],
        set_={"last_number": BatchCodeSequence.last_number + 1},
    ).returning(BatchCodeSequence.last_number)


def plan_lines(plan: PlanSnapshot) -> list[tuple[StartedLine, str | None, object]]:
    """The lines inventory is asked for: ingredients, consumables, then containers (counted).
    Each with the plan's name for the item and its estimated cost."""
    lines: list[tuple[StartedLine, str | None, object]] = []
    for role, group in (("ingredient", plan.ingredients_plan),
                        ("consumable", plan.consumables_plan)):
        for line in group:
            lines.append((StartedLine(item_id=line.inventory_item_id, quantity=line.quantity,
                                      unit=line.unit, role=role),  # type: ignore[arg-type]
                          line.item_name, line.estimated_cost))
    for container in plan.containers:
        lines.append((StartedLine(item_id=container.id, quantity=container.quantity,
                                  unit="count", role="container"),
                      container.name, container.estimated_cost))
    return lines


async def start_batch(uow: UnitOfWork, caller: Caller, request: StartRequest,
                      idempotency_key: str | None = None) -> tuple[uuid.UUID, bool]:
    """Store the batch as pending and publish `BatchStarted`, in one transaction: its id, and
    whether this request made it. A repeat under the same Idempotency-Key makes nothing and
    names the first request's batch."""
    org_id = caller.org_id
    claimed = await idempotency.claim(uow, org_id, idempotency_key, "start", request)
    if isinstance(claimed, idempotency.Repeat):
        await uow.rollback()
        return claimed.batch_ids[0], False
    plan = request.plan_snapshot
    now = utcnow()
    prefix = domain.code_prefix(plan.label_prefix, plan.recipe_name)
    number = await next_code_number(uow, org_id, prefix, now.date())
    lines = plan_lines(plan)
    batch = Batch(
        id=uuid.uuid4(), org_id=org_id, code=domain.batch_code(prefix, now.date(), number),
        status="pending", recipe_id=plan.recipe_id, recipe_version=plan.recipe_version,
        recipe_name=plan.recipe_name, batch_type=plan.batch_type,
        output_item_id=plan.output_item_id, plan_snapshot=plan.model_dump(mode="json"),
        scale=plan.scale, projected_yield=plan.projected_yield,
        projected_yield_unit=plan.projected_yield_unit,
        is_portioned=plan.portioning.is_portioned, portion_name=plan.portioning.portion_name,
        portion_count=plan.portioning.portion_count, notes=request.notes,
        estimated_cost=plan.estimated_cost, cost_complete=plan.cost_complete,
        created_by=caller.user_id, created_at=now, updated_at=now,
    )
    await add_batch(uow, batch, lines)
    await idempotency.remember(uow, claimed, [batch.id])
    await uow.commit()
    return batch.id, True


async def add_batch(uow: UnitOfWork, batch: Batch,
                    lines: list[tuple[StartedLine, str | None, object]]) -> None:
    """Write a pending batch with its lines, and the `BatchStarted` asking for them."""
    uow.session.add(batch)
    await uow.session.flush()  # the lines refer to it
    uow.session.add_all([
        BatchLine(org_id=batch.org_id, batch_id=batch.id, position=position,
                  item_id=line.item_id, item_name=name, role=line.role,
                  quantity=line.quantity, unit=line.unit, estimated_cost=estimate)
        for position, (line, name, estimate) in enumerate(lines)])
    uow.publish(BatchStarted(
        batch_id=batch.id, batch_code=batch.code, recipe_id=batch.recipe_id,
        recipe_version=batch.recipe_version, batch_type=batch.batch_type,  # type: ignore[arg-type]
        lines=tuple(line for line, _, _ in lines)),
        org_id=batch.org_id, subject=str(batch.id))


async def cancel_batch(uow: UnitOfWork, caller: Caller, batch_id: uuid.UUID,
                       request: CancelRequest | None, idempotency_key: str | None = None,
                       ) -> uuid.UUID:
    """In progress: `BatchCancelled` now (inventory returns the stock to its lots). Pending:
    the cancel is recorded and `BatchCancelled` waits for inventory's answer to the start, so
    a late deduction can never outrun its own return."""
    claimed = await idempotency.claim(uow, caller.org_id, idempotency_key,
                                      f"cancel:{batch_id}", request)
    if isinstance(claimed, idempotency.Repeat):
        await uow.rollback()
        return batch_id
    batch = await load_batch(uow.session, caller.org_id, batch_id, lock=True)
    if batch.status not in ("pending", "in_progress"):
        raise BatchStateConflict(
            f"A batch that is {batch.status.replace('_', ' ')} cannot be cancelled",
            details={"batch_id": str(batch.id), "status": batch.status})
    now = utcnow()
    batch.cancel_requested_at = now
    batch.cancel_reason = request.reason if request else None
    if batch.status == "in_progress":
        publish_cancel(uow, batch)
    batch.status = "cancelling"
    await announce(uow, batch)
    await idempotency.remember(uow, claimed, [batch.id])
    await uow.commit()
    return batch.id


def publish_cancel(uow: UnitOfWork, batch: Batch) -> None:
    batch.cancel_published_at = utcnow()
    uow.publish(BatchCancelled(batch_id=batch.id, batch_code=batch.code,
                               reason=batch.cancel_reason),
                org_id=batch.org_id, subject=str(batch.id))


async def adjust_containers(uow: UnitOfWork, caller: Caller, batch_id: uuid.UUID,
                            request: ContainerAdjustmentCreate) -> ContainerAdjustment:
    """Note on the batch record that containers broke, were extra used or went unused.
    Stock is not moved: a batch takes its containers at start, and a correction of stock
    is an inventory adjustment."""
    batch = await load_batch(uow.session, caller.org_id, batch_id, lock=True)
    if batch.status not in ("in_progress", "finished"):
        raise BatchStateConflict(
            "Containers can be adjusted on a batch in progress or finished",
            details={"batch_id": str(batch.id), "status": batch.status})
    containers = {line.item_id for line in await batch_lines(uow.session, batch)
                  if line.role == "container"}
    if request.reason != "extra_used" and request.container_id not in containers:
        raise ContainerNotInBatch(details={"container_id": str(request.container_id)})
    adjustment = ContainerAdjustment(
        id=uuid.uuid4(), org_id=batch.org_id, batch_id=batch.id,
        container_id=request.container_id, quantity=request.quantity, reason=request.reason,
        notes=request.notes, created_by=caller.user_id, created_at=utcnow())
    uow.session.add(adjustment)
    batch.updated_at = utcnow()
    await uow.commit()
    return adjustment

