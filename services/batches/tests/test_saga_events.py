"""Inventory's answers delivered as the broker would: each takes effect once, in the right
state, and an answer that does not apply is acknowledged and left alone."""

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from batches.models import Batch, BatchConsumption
from batches.testing import START, plan, published
from contracts import BatchCancelled, StockDeducted, StockDeductionFailed, StockRestored
from contracts.inventory import ConsumptionLine, RestorationLine, Shortage
from servicekit.messaging.transport import Verdict
from servicekit.testing.service import deliver, envelope_for

API = "/api/v1/batches"

# Inventory's worker is down throughout: what batches publishes waits in its queue, and the
# tests deliver inventory's answers themselves.
pytestmark = pytest.mark.usefixtures("inventory_down")


async def pending_batch(client: httpx.AsyncClient, headers: dict[str, str],
                        item: uuid.UUID) -> dict[str, Any]:
    """A batch whose start inventory has not answered (its worker is down)."""
    response = await client.post(START, headers={**headers, "Prefer": "respond-async"},
                                 json={"plan_snapshot": plan((item, 300))})
    assert response.status_code == 202, response.text
    return response.json()


def deducted(batch_id: str, item: uuid.UUID, lot: uuid.UUID | None = None) -> StockDeducted:
    line = ConsumptionLine(item_id=item, lot_id=lot or uuid.uuid4(), lot_number="L-1",
                           quantity=Decimal(300), unit="g", unit_cost=Decimal("0.02"),
                           cost=Decimal(6))
    return StockDeducted(batch_id=uuid.UUID(batch_id), consumption=(line,),
                         total_cost=Decimal(6))


def failed(batch_id: str, item: uuid.UUID) -> StockDeductionFailed:
    return StockDeductionFailed(batch_id=uuid.UUID(batch_id), shortages=(Shortage(
        item_id=item, needed=Decimal(300), available=Decimal(5), unit="g",
        reason="insufficient"),))


async def consumption_rows(app: FastAPI, batch_id: str) -> int:
    async with app.state.db.sessionmaker() as session:
        return int(await session.scalar(
            sa.select(sa.func.count()).select_from(BatchConsumption)
            .where(BatchConsumption.batch_id == uuid.UUID(batch_id))) or 0)


async def status_of(client: httpx.AsyncClient, headers: dict[str, str],
                    batch: dict[str, Any]) -> str:
    return (await client.get(f"{API}/{batch['id']}", headers=headers)).json()["status"]


async def test_stock_deducted_delivered_twice_records_the_consumption_once(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil = uuid.uuid4()
    batch = await pending_batch(client, headers, oil)
    envelope = envelope_for(deducted(batch["id"], oil), org)

    first = await deliver(app, envelope)
    again = await deliver(app, envelope)
    # Inventory answering a resent start again: the same answer under another event id.
    answered_again = await deliver(app, envelope_for(deducted(batch["id"], oil), org))

    assert [d.verdict for d in (first, again, answered_again)] == [Verdict.ACK] * 3
    assert await consumption_rows(app, batch["id"]) == 1
    body = (await client.get(f"{API}/{batch['id']}", headers=headers)).json()
    assert (body["status"], body["actual_cost"]) == ("in_progress", 6)


async def test_an_answer_for_an_unknown_batch_is_acknowledged_and_changes_nothing(
    app: FastAPI, org: uuid.UUID,
) -> None:
    unknown = str(uuid.uuid4())
    item = uuid.uuid4()

    verdicts = [(await deliver(app, envelope_for(event, org))).verdict for event in (
        deducted(unknown, item), failed(unknown, item),
        StockRestored(batch_id=uuid.UUID(unknown), restorations=()))]

    assert verdicts == [Verdict.ACK] * 3
    assert await published(app, org, BatchCancelled) == []


async def test_a_deduction_failure_marks_a_pending_batch_failed_with_its_shortages(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil = uuid.uuid4()
    batch = await pending_batch(client, headers, oil)

    await deliver(app, envelope_for(failed(batch["id"], oil), org))

    body = (await client.get(f"{API}/{batch['id']}", headers=headers)).json()
    assert body["status"] == "failed"
    assert body["shortages"] == [{"item_id": str(oil), "item_name": None, "needed": 300,
                                  "available": 5, "unit": "g", "reason": "insufficient"}]


async def test_answers_that_do_not_fit_the_batchs_state_are_ignored(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil = uuid.uuid4()
    batch = await pending_batch(client, headers, oil)
    await deliver(app, envelope_for(deducted(batch["id"], oil), org))

    late_failure = await deliver(app, envelope_for(failed(batch["id"], oil), org))
    stray_restore = await deliver(app, envelope_for(StockRestored(
        batch_id=uuid.UUID(batch["id"]), restorations=()), org))

    assert (late_failure.verdict, stray_restore.verdict) == (Verdict.ACK, Verdict.ACK)
    assert await status_of(client, headers, batch) == "in_progress"


async def test_stock_taken_for_a_batch_that_already_failed_is_handed_back(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil = uuid.uuid4()
    batch = await pending_batch(client, headers, oil)
    await deliver(app, envelope_for(failed(batch["id"], oil), org))

    await deliver(app, envelope_for(deducted(batch["id"], oil), org))

    [cancelled] = await published(app, org, BatchCancelled)
    assert str(cancelled.batch_id) == batch["id"]
    assert await status_of(client, headers, batch) == "failed"


async def test_stock_restored_ends_a_cancelling_batch_cancelled(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    oil, lot = uuid.uuid4(), uuid.uuid4()
    batch = await pending_batch(client, headers, oil)
    await deliver(app, envelope_for(deducted(batch["id"], oil, lot), org))
    response = await client.post(f"{API}/{batch['id']}/cancel",
                                 headers={**headers, "Prefer": "wait=0"})
    assert response.status_code == 202
    restored = StockRestored(batch_id=uuid.UUID(batch["id"]), restorations=(RestorationLine(
        item_id=oil, lot_id=lot, quantity=Decimal(300), unit="g"),))

    envelope = envelope_for(restored, org)
    await deliver(app, envelope)
    await deliver(app, envelope)

    body = (await client.get(f"{API}/{batch['id']}", headers=headers)).json()
    assert body["status"] == "cancelled"
    assert body["cancelled_at"] is not None
    async with app.state.db.sessionmaker() as session:
        stored = await session.get(Batch, uuid.UUID(batch["id"]))
        assert stored is not None and stored.cancel_published_at is not None
