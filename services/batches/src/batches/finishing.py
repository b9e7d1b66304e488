"""Finishing a batch (its outputs at its actual cost) and splitting a finished base batch into
variants, each a batch of its own that takes its share of the base through the same saga."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from batches import domain, idempotency
from batches.errors import (
    BatchStateConflict,
    CostAllocationInvalid,
    SplitInvalid,
    json_number,
)
from batches.inventory import Output, check_base_in_stock, check_outputs
from batches.models import Batch, BatchLine, BatchOutput
from batches.outcomes import announce
from batches.schemas import FinishRequest, SplitRequest, WasteIn
from batches.service import add_batch
from batches.views import load_batch
from contracts import BatchFinished
from contracts.batches import BatchLine as StartedLine
from contracts.batches import BatchOutput as FinishedOutput
from contracts.batches import Waste
from servicekit.db import UnitOfWork, utcnow
from servicekit.errors import ValidationFailed
from servicekit.identity import Caller
from servicekit.peers import PeerClient

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class OutputSpec:
    item_id: uuid.UUID
    quantity: Decimal
    unit: str
    cost_share: Decimal | None = None
    expires_at: datetime | None = None
    notes: str | None = None


async def finish_batch(uow: UnitOfWork, caller: Caller, batch_id: uuid.UUID,
                       request: FinishRequest, inventory: PeerClient,
                       idempotency_key: str | None = None) -> uuid.UUID:
    claimed = await idempotency.claim(uow, caller.org_id, idempotency_key,
                                      f"finish:{batch_id}", request)
    if isinstance(claimed, idempotency.Repeat):
        await uow.rollback()
        return batch_id
    batch = await load_batch(uow.session, caller.org_id, batch_id, lock=True)
    if batch.status != "in_progress":
        raise BatchStateConflict(
            f"Only a batch in progress can be finished; this one is "
            f"{batch.status.replace('_', ' ')}",
            details={"batch_id": str(batch.id), "status": batch.status})
    now = utcnow()
    specs = []
    for i, product in enumerate(request.products):
        item_id = product.product_sku_id or batch.output_item_id
        if item_id is None:
            raise ValidationFailed(
                "Name the item made: the batch's plan has no output_item_id",
                details={"fields": {f"products.{i}.product_sku_id": ["is required"]}})
        if product.expires_at is not None and product.shelf_life_days is not None:
            raise ValidationFailed(
                "Give expires_at or shelf_life_days, not both",
                details={"fields": {f"products.{i}": ["expires_at and shelf_life_days"]}})
        expires_at = product.expires_at
        if product.shelf_life_days is not None:
            expires_at = now + timedelta(days=product.shelf_life_days)
        specs.append(OutputSpec(item_id, product.quantity,
                                product.unit or batch.projected_yield_unit,
                                product.cost_share, expires_at, product.notes))
    await check_outputs(inventory, [Output(f"products.{i}", spec.item_id, spec.quantity,
                                           spec.unit) for i, spec in enumerate(specs)])
    complete(uow, batch, specs, waste=request.waste, batch_notes=request.batch_notes, now=now)
    await announce(uow, batch)
    await idempotency.remember(uow, claimed, [batch.id])
    await uow.commit()
    return batch.id


def complete(uow: UnitOfWork, batch: Batch, specs: list[OutputSpec], *,
             waste: WasteIn | None = None, batch_notes: str | None = None,
             now: datetime) -> None:
    """Record the outputs at their share of the batch's actual cost and publish
    `BatchFinished`: inventory makes a lot of each, the batch code as its lot number."""
    total = batch.actual_cost or ZERO
    try:
        costs = domain.allocate(total, [domain.OutputDraft(s.quantity, s.unit, s.cost_share)
                                        for s in specs])
    except domain.AllocationError as error:
        raise CostAllocationInvalid(str(error)) from error
    lot_numbers = domain.output_lot_numbers(batch.code, [s.item_id for s in specs])
    outputs = []
    for position, (spec, cost, lot_number) in enumerate(zip(specs, costs, lot_numbers,
                                                            strict=True)):
        unit_cost = domain.unit_cost(cost, spec.quantity)
        uow.session.add(BatchOutput(
            org_id=batch.org_id, batch_id=batch.id, position=position, item_id=spec.item_id,
            quantity=spec.quantity, unit=spec.unit, cost=cost,
            unit_cost=domain.on_scale(unit_cost), cost_share=spec.cost_share,
            lot_number=lot_number, expires_at=spec.expires_at, notes=spec.notes))
        outputs.append(FinishedOutput(item_id=spec.item_id, quantity=spec.quantity,
                                      unit=spec.unit, unit_cost=unit_cost,
                                      lot_number=lot_number, expires_at=spec.expires_at))
    units = {spec.unit for spec in specs}
    if len(units) == 1:
        batch.yield_quantity = sum((spec.quantity for spec in specs), ZERO)
        batch.yield_unit = units.pop()
    if waste is not None:
        batch.waste_quantity, batch.waste_unit = waste.quantity, waste.unit
        batch.waste_notes = waste.notes
    batch.batch_notes = batch_notes
    batch.status = "finished"
    batch.finished_at = now
    batch.updated_at = now
    uow.publish(BatchFinished(
        batch_id=batch.id, batch_code=batch.code,
        batch_type=batch.batch_type,  # type: ignore[arg-type]
        outputs=tuple(outputs),
        waste=Waste(quantity=waste.quantity, unit=waste.unit) if waste else None,
        total_cost=total), org_id=batch.org_id, subject=str(batch.id))


async def split_batch(uow: UnitOfWork, caller: Caller, parent_id: uuid.UUID,
                      request: SplitRequest, inventory: PeerClient,
                      idempotency_key: str | None = None) -> tuple[list[uuid.UUID], bool]:
    """A variant batch per variant, each taking its base quantity of the parent's output
    through inventory (`BatchStarted`, FIFO like any batch) and finished with its variant
    output as soon as the base is taken. Returns the variants' ids, and whether this request
    made them."""
    claimed = await idempotency.claim(uow, caller.org_id, idempotency_key,
                                      f"split:{parent_id}", request)
    if isinstance(claimed, idempotency.Repeat):
        await uow.rollback()
        return claimed.batch_ids, False
    parent = await load_batch(uow.session, caller.org_id, parent_id, lock=True)
    if parent.status != "finished":
        raise BatchStateConflict(
            "Only a finished batch can be split into variants",
            details={"batch_id": str(parent.id), "status": parent.status})
    outputs = list(await uow.session.scalars(
        sa.select(BatchOutput).where(BatchOutput.org_id == parent.org_id,
                                     BatchOutput.batch_id == parent.id)))
    if len({(o.item_id, o.unit) for o in outputs}) != 1:
        raise SplitInvalid("Only a batch that made one item (in one unit) can be split")
    base_item, base_unit = outputs[0].item_id, outputs[0].unit
    made = sum((o.quantity for o in outputs), ZERO)
    children = list(await uow.session.scalars(
        sa.select(Batch).where(Batch.org_id == parent.org_id,
                               Batch.parent_batch_id == parent.id)))
    live = [c.id for c in children if c.status not in ("failed", "cancelled")]
    used = (await uow.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(BatchLine.quantity), 0))
        .where(BatchLine.org_id == parent.org_id, BatchLine.batch_id.in_(live)))) if live else 0
    available = made - Decimal(used)
    bases = _base_quantities(request, available)
    if sum(bases, ZERO) > available:
        raise SplitInvalid(
            "The variants take more of the base than the batch made and earlier variants left",
            details={"available": json_number(available), "unit": base_unit})
    await check_outputs(inventory, [
        Output(f"variants.{i}", variant.output_item_id, variant.quantity, variant.unit)
        for i, variant in enumerate(request.variants)])
    await check_base_in_stock(inventory, base_item, parent.id)
    now = utcnow()
    ids = []
    for offset, (variant, base) in enumerate(zip(request.variants, bases, strict=True)):
        estimate = (domain.on_scale(parent.actual_cost * base / made)
                    if parent.actual_cost is not None and made else None)
        child = Batch(
            id=uuid.uuid4(), org_id=parent.org_id,
            code=domain.variant_code(parent.code, len(children) + offset),
            status="pending", recipe_id=parent.recipe_id, recipe_version=parent.recipe_version,
            recipe_name=parent.recipe_name, batch_type="product",
            output_item_id=variant.output_item_id,
            plan_snapshot={"variant_of": str(parent.id), "base_item_id": str(base_item),
                           "base_quantity": str(base), "base_unit": base_unit},
            scale=Decimal(1), projected_yield=variant.quantity,
            projected_yield_unit=variant.unit, notes=variant.notes or request.notes,
            estimated_cost=estimate, parent_batch_id=parent.id,
            variant_output={"item_id": str(variant.output_item_id),
                            "quantity": str(variant.quantity), "unit": variant.unit,
                            "notes": variant.notes},
            created_by=caller.user_id, created_at=now, updated_at=now)
        line = StartedLine(item_id=base_item, quantity=base, unit=base_unit, role="ingredient")
        await add_batch(uow, child, [(line, parent.recipe_name, estimate)])
        ids.append(child.id)
    parent.updated_at = now
    await idempotency.remember(uow, claimed, ids)
    await uow.commit()
    return ids, True


def _base_quantities(request: SplitRequest, available: Decimal) -> list[Decimal]:
    variants = request.variants
    given = [v.base_quantity for v in variants]
    if all(quantity is not None for quantity in given):
        return [quantity for quantity in given if quantity is not None]
    if any(quantity is not None for quantity in given):
        raise SplitInvalid("Give base_quantity for every variant, or for none")
    if available <= 0:
        raise SplitInvalid("Nothing of the base is left to split",
                           details={"available": json_number(available)})
    shares = [v.cost_share for v in variants]
    if all(share is not None for share in shares):
        weights = [share for share in shares if share is not None]
    elif len({v.unit for v in variants}) == 1:
        weights = [v.quantity for v in variants]
    else:
        raise SplitInvalid("Variants in different units need base_quantity or cost_share")
    if sum(weights, ZERO) <= 0:
        raise SplitInvalid("Cost shares must add up to more than zero")
    return domain.split_base(available, weights)
