"""The batch saga on inventory's side: BatchStarted, BatchFinished and BatchCancelled delivered
as the broker would, with the replies read from the outbox."""

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from contracts import BatchCancelled, BatchFinished, BatchStarted
from contracts.batches import BatchLine, BatchOutput
from inventory.models import Lot, Movement, Reservation
from inventory.testing import make_item
from inventory.testing import restock_by_adjustment as restock
from servicekit.messaging.tables import outbox
from servicekit.messaging.transport import Verdict
from servicekit.testing.service import deliver, envelope_for

API = "/api/v1/inventory"


def auth(mint_token: Callable[..., str], org_id: uuid.UUID) -> dict:
    return {"Authorization": f"Bearer {mint_token(org_id=org_id, role='owner')}"}




def started(*lines: tuple[uuid.UUID, Any, str], batch_id: uuid.UUID | None = None,
            code: str = "MAH-001") -> BatchStarted:
    return BatchStarted(
        batch_id=batch_id or uuid.uuid4(), batch_code=code, recipe_id=uuid.uuid4(),
        recipe_version=1, batch_type="product",
        lines=tuple(BatchLine(item_id=item, quantity=Decimal(str(quantity)), unit=unit,
                              role="ingredient") for item, quantity, unit in lines))


async def replies(app: FastAPI, org_id: uuid.UUID, name: str) -> list[dict]:
    async with app.state.db.sessionmaker() as session:
        bodies = await session.scalars(
            sa.select(outbox.c.body).where(outbox.c.org_id == str(org_id),
                                           outbox.c.routing_key == f"inventory.{name}.v1")
            .order_by(outbox.c.id))
        return [json.loads(body)["data"] for body in bodies]


async def remaining(app: FastAPI, org_id: uuid.UUID) -> dict[uuid.UUID, Decimal]:
    async with app.state.db.sessionmaker() as session:
        return dict((await session.execute(
            sa.select(Lot.id, Lot.quantity_remaining).where(Lot.org_id == org_id))).all())


async def test_a_started_batch_takes_a_litre_of_oil_fifo_from_lots_kept_in_grams(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    oil = await make_item(app, org, name="Olive oil", density_g_per_ml=Decimal("0.91"))
    lots = [await restock(client, headers, oil, grams, cost)
            for grams, cost in ((500, "0.01"), (300, "0.02"), (1000, "0.03"))]
    expired = await restock(client, headers, oil, 5000, "0.001", expiration_date="2020-01-01")
    event = started((oil, 1, "l"))

    disposition = await deliver(app, envelope_for(event, org))

    assert disposition.verdict == Verdict.ACK
    [reply] = await replies(app, org, "StockDeducted")
    assert reply["batch_id"] == str(event.batch_id)
    assert [(c["lot_id"], c["quantity"], c["unit"], c["unit_cost"], c["cost"])
            for c in reply["consumption"]] == [
        (lots[0]["lot_id"], "500", "g", "0.01", "5"),
        (lots[1]["lot_id"], "300", "g", "0.02", "6"),
        (lots[2]["lot_id"], "110", "g", "0.03", "3.3"),
    ]
    assert reply["consumption"][0]["lot_number"] == lots[0]["lot_number"]
    assert reply["total_cost"] == "14.3"
    left = await remaining(app, org)
    assert [left[uuid.UUID(lot["lot_id"])] for lot in lots] == [0, 0, 890]
    assert left[uuid.UUID(expired["lot_id"])] == 5000
    movements = (await client.get(f"{API}/movements?batch_id={event.batch_id}",
                                  headers=headers)).json()["items"]
    assert sorted(m["quantity"] for m in movements) == [-500, -300, -110]
    assert {m["kind"] for m in movements} == {"batch_consumption"}
    assert {m["actor"] for m in movements} == {"event:batches.BatchStarted.v1"}


async def test_a_batch_short_of_anything_takes_nothing_and_names_every_shortage(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    oil = await make_item(app, org, density_g_per_ml=Decimal("0.91"))
    lye = await make_item(app, org)
    stale = await make_item(app, org)
    fragrance = await make_item(app, org)  # no density
    soap = await make_item(app, org, type="product", default_unit="count")
    await restock(client, headers, oil, 2000)
    await restock(client, headers, lye, 100)
    await restock(client, headers, stale, 100, expiration_date="2020-01-01")
    await restock(client, headers, fragrance, 100)
    await restock(client, headers, soap, 10)
    async with app.state.db.sessionmaker() as session:
        session.add(Reservation(id=uuid.uuid4(), org_id=org, item_id=soap, quantity=Decimal(8),
                                status="active"))
        await session.commit()
    unknown = uuid.uuid4()
    before = await remaining(app, org)
    event = started((oil, 1, "l"), (lye, "0.15", "kg"), (stale, 1, "g"), (unknown, 2, "g"),
                    (fragrance, 10, "ml"), (soap, 3, "count"))

    assert (await deliver(app, envelope_for(event, org))).verdict == Verdict.ACK

    assert await remaining(app, org) == before
    assert await replies(app, org, "StockDeducted") == []
    [failure] = await replies(app, org, "StockDeductionFailed")
    assert failure["batch_id"] == str(event.batch_id)
    shortages = {s["item_id"]: (s["needed"], s["available"], s["unit"], s["reason"])
                 for s in failure["shortages"]}
    assert shortages == {
        str(lye): ("0.15", "0.1", "kg", "insufficient"),
        str(stale): ("1", "0", "g", "expired_lots_only"),
        str(unknown): ("2", "0", "g", "unknown_item"),
        str(fragrance): ("10", "0", "ml", "density_required"),
        str(soap): ("3", "2", "count", "insufficient"),  # 8 of 10 are reserved
    }


async def test_an_items_id_from_another_organization_is_an_unknown_item(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    owner, intruder = uuid.uuid4(), uuid.uuid4()
    oil = await make_item(app, owner)
    await restock(client, auth(mint_token, owner), oil, 100)
    before = await remaining(app, owner)
    await deliver(app, envelope_for(started((oil, 10, "g")), intruder))
    assert await remaining(app, owner) == before
    [failure] = await replies(app, intruder, "StockDeductionFailed")
    assert failure["shortages"][0]["reason"] == "unknown_item"
    assert await replies(app, owner, "StockDeductionFailed") == []


async def test_a_redelivered_batch_started_deducts_once(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    lye = await make_item(app, org)
    await restock(client, auth(mint_token, org), lye, 100)
    event = started((lye, 30, "g"))
    envelope = envelope_for(event, org)
    for attempt in (1, 2):
        assert (await deliver(app, envelope, attempt=attempt)).verdict == Verdict.ACK
    assert list((await remaining(app, org)).values()) == [70]
    assert len(await replies(app, org, "StockDeducted")) == 1

    # The same batch started again under a new event id takes nothing more; the consumption
    # on record is the answer again.
    await deliver(app, envelope_for(event, org))
    assert list((await remaining(app, org)).values()) == [70]
    first, second = await replies(app, org, "StockDeducted")
    assert first == second


async def test_fifty_concurrent_batches_for_the_same_lots_never_oversell_and_are_all_or_nothing(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    oil = await make_item(app, org, density_g_per_ml=Decimal("0.9"))
    molds = await make_item(app, org, default_unit="count")
    for grams in (400, 350, 250):
        await restock(client, headers, oil, grams, "0.01")
    for count in (60, 43):
        await restock(client, headers, molds, count, "0.5")
    # Each batch wants 20 g of oil (as ml) and 3 molds: oil runs out after 50 batches, molds
    # after 34, so 34 batches succeed whole and 16 fail without taking any oil.
    events = [started((oil, Decimal(20) / Decimal("0.9"), "ml"), (molds, 3, "count"),
                      code=f"B-{n}") for n in range(50)]

    dispositions = await asyncio.gather(*(deliver(app, envelope_for(e, org)) for e in events))

    assert {d.verdict for d in dispositions} == {Verdict.ACK}
    deducted = await replies(app, org, "StockDeducted")
    failed = await replies(app, org, "StockDeductionFailed")
    assert len(deducted) + len(failed) == 50
    assert len(deducted) == 34
    left = await remaining(app, org)
    assert all(quantity >= 0 for quantity in left.values())
    async with app.state.db.sessionmaker() as session:
        taken = dict((await session.execute(
            sa.select(Movement.item_id, -sa.func.sum(Movement.quantity))
            .where(Movement.org_id == org, Movement.kind == "batch_consumption")
            .group_by(Movement.item_id))).all())
        per_batch = (await session.execute(
            sa.select(Movement.batch_id, Movement.item_id, -sa.func.sum(Movement.quantity))
            .where(Movement.org_id == org, Movement.kind == "batch_consumption")
            .group_by(Movement.batch_id, Movement.item_id))).all()
    assert taken == {oil: len(deducted) * 20, molds: len(deducted) * 3}
    assert sorted(per_batch) == sorted(
        [(uuid.UUID(d["batch_id"]), oil, 20) for d in deducted]
        + [(uuid.UUID(d["batch_id"]), molds, 3) for d in deducted])
    assert {f["shortages"][0]["item_id"] for f in failed} == {str(molds)}


async def test_a_finished_batch_becomes_product_lots_at_its_unit_cost(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    bars = await make_item(app, org, type="product", default_unit="count", count_unit="bars",
                           shelf_life_days=365, sku="MAH-BAR")
    loaf = await make_item(app, org, type="product", default_unit="g")
    expires = datetime(2027, 3, 1, tzinfo=UTC)
    event = BatchFinished(
        batch_id=uuid.uuid4(), batch_code="MAH-007", batch_type="product", total_cost=Decimal(40),
        outputs=(
            BatchOutput(item_id=bars, quantity=Decimal(20), unit="bars",
                        unit_cost=Decimal("1.75"), lot_number="MAH-007"),
            BatchOutput(item_id=loaf, quantity=Decimal("1.2"), unit="kg",
                        unit_cost=Decimal(5), lot_number="MAH-007-L", expires_at=expires),
        ))

    assert (await deliver(app, envelope_for(event, org))).verdict == Verdict.ACK
    await deliver(app, envelope_for(event, org))  # the same finish again: nothing more

    bar_lots = (await client.get(f"{API}/items/{bars}/lots", headers=headers)).json()["lots"]
    assert [(lot["lot_number"], lot["quantity_remaining"], lot["unit_cost"], lot["source"],
             lot["batch_id"], lot["location"]["name"]) for lot in bar_lots] == [
        ("MAH-007", 20, 1.75, "batch_output", str(event.batch_id), "Workshop")]
    received = datetime.fromisoformat(bar_lots[0]["received_at"])
    assert datetime.fromisoformat(bar_lots[0]["expires_at"]) - received == timedelta(days=365)
    [loaf_lot] = (await client.get(f"{API}/items/{loaf}/lots", headers=headers)).json()["lots"]
    assert (loaf_lot["quantity_remaining"], loaf_lot["unit_cost"]) == (1200, 0.005)
    assert datetime.fromisoformat(loaf_lot["expires_at"]) == expires
    outputs = (await client.get(f"{API}/movements?kind=batch_output",
                                headers=headers)).json()["items"]
    assert sorted(m["cost"] for m in outputs) == [6, 35]
    levels = await replies(app, org, "StockLevelChanged")
    assert sorted((e["item_id"], e["available"], e["cause"]) for e in levels) == sorted([
        (str(bars), "20", "batch_finished"), (str(loaf), "1200", "batch_finished")])


async def test_a_finished_batch_naming_an_unknown_item_is_dead_lettered_untouched(
    app: FastAPI,
) -> None:
    org = uuid.uuid4()
    event = BatchFinished(batch_id=uuid.uuid4(), batch_code="X", batch_type="product",
                          total_cost=Decimal(0), outputs=(BatchOutput(
                              item_id=uuid.uuid4(), quantity=Decimal(1), unit="count",
                              unit_cost=Decimal(0), lot_number="X"),))
    disposition = await deliver(app, envelope_for(event, org))
    assert disposition.verdict == Verdict.DEAD_LETTER
    assert await remaining(app, org) == {}


async def test_a_cancelled_batch_returns_its_stock_to_the_exact_lots_once(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    headers = auth(mint_token, org)
    oil = await make_item(app, org)
    lye = await make_item(app, org)
    oil_lots = [(await restock(client, headers, oil, 100))["lot_id"] for _ in range(3)]
    lye_lot = (await restock(client, headers, lye, 50))["lot_id"]
    start = started((oil, 250, "g"), (lye, 20, "g"))
    other = started((oil, 30, "g"))
    await deliver(app, envelope_for(start, org))
    await deliver(app, envelope_for(other, org))
    assert [(await remaining(app, org))[uuid.UUID(i)] for i in oil_lots] == [0, 0, 20]
    cancel = BatchCancelled(batch_id=start.batch_id, batch_code=start.batch_code,
                            reason="wrong recipe")

    assert (await deliver(app, envelope_for(cancel, org))).verdict == Verdict.ACK

    left = await remaining(app, org)
    assert [left[uuid.UUID(i)] for i in oil_lots] == [100, 100, 70]  # less the other batch's 30
    assert left[uuid.UUID(lye_lot)] == 50
    [restored] = await replies(app, org, "StockRestored")
    assert restored["batch_id"] == str(start.batch_id)
    assert sorted((r["lot_id"], r["quantity"], r["unit"]) for r in restored["restorations"]) == \
        sorted([(oil_lots[0], "100", "g"), (oil_lots[1], "100", "g"),
                (oil_lots[2], "50", "g"), (lye_lot, "20", "g")])

    # Cancelled again (a new event id, so not the inbox's doing): nothing is left to return.
    await deliver(app, envelope_for(cancel, org))
    assert await remaining(app, org) == left
    assert (await replies(app, org, "StockRestored"))[1]["restorations"] == []
    async with app.state.db.sessionmaker() as session:
        net = await session.scalar(sa.select(sa.func.sum(Movement.quantity)).where(
            Movement.org_id == org, Movement.batch_id == start.batch_id))
    assert net == 0
