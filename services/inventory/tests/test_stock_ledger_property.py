"""The ledger property: after any sequence of operations, every lot's quantity and every item's
on-hand can be recomputed from the movements alone, and agree with an independent tally."""

import random
import uuid
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from contracts import BatchCancelled, BatchStarted
from contracts.batches import BatchLine
from inventory.models import Item, Location, Lot, Movement
from inventory.stock.ledger import recompute
from servicekit.testing.service import deliver, envelope_for

API = "/api/v1/inventory"
# How each unit the operations use becomes the items' default unit (g, or count).
GRAMS = {"g": Decimal(1), "kg": Decimal(1000), "ml": Decimal("0.92"), "l": Decimal(920)}


async def lots_of(app: FastAPI, org: uuid.UUID) -> list[Lot]:
    async with app.state.db.sessionmaker() as session:
        # In the order they were made, so that a seed replays the same operations.
        return list(await session.scalars(sa.select(Lot).where(Lot.org_id == org)
                                          .order_by(Lot.created_at, Lot.id)))


@pytest.mark.parametrize("seed", [20260601, 7])
async def test_lot_and_item_quantities_are_recomputable_from_the_ledger_after_random_operations(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str], seed: int,
) -> None:
    rng = random.Random(seed)
    org = uuid.uuid4()
    headers = {"Authorization": f"Bearer {mint_token(org_id=org, role='owner')}"}
    async with app.state.db.sessionmaker() as session:
        items = [Item(id=uuid.uuid4(), org_id=org, name=name, type=kind, default_unit=unit,
                      density_g_per_ml=density, consumption_order=order)
                 for name, kind, unit, density, order in (
                     ("oil", "ingredient", "g", Decimal("0.92"), "fifo"),
                     ("lye", "ingredient", "g", None, "fifo"),
                     ("honey", "ingredient", "g", Decimal("0.92"), "fefo"),
                     ("bar", "product", "count", None, "fifo"))]
        workshop = Location(id=uuid.uuid4(), org_id=org, name="Workshop", is_default=True)
        shed = Location(id=uuid.uuid4(), org_id=org, name="Shed")
        session.add_all([*items, workshop, shed])
        await session.commit()
    expected = {item.id: Decimal(0) for item in items}  # the tally, kept apart from the ledger
    batches: dict[uuid.UUID, dict[uuid.UUID, Decimal]] = {}
    cancelled: set[uuid.UUID] = set()
    done: Counter[str] = Counter()  # operations that took effect, to show the mix was wide

    def amount(item: Item, share: int = 1) -> tuple[Decimal, str, Decimal]:
        """A random quantity (a `share`th of a restock's), a unit the item takes, and that
        quantity in its default unit."""
        if item.default_unit == "count":
            quantity = Decimal(rng.randint(1, 12 // share))
            return quantity, "count", quantity
        units = ["g", "kg", "ml", "l"] if item.density_g_per_ml else ["g", "kg"]
        unit = rng.choice(units)
        quantity = Decimal(rng.randint(1, 40000)) / (1000 if unit in ("kg", "l") else 100) / share
        return quantity, unit, quantity * GRAMS[unit] if unit != "g" else quantity

    async def adjust(line: dict[str, Any]) -> httpx.Response:
        return await client.post(f"{API}/adjustments", headers=headers,
                                 json={"adjustments": [line]})

    for _ in range(200):
        item = rng.choice(items)
        lots = [lot for lot in await lots_of(app, org) if lot.item_id == item.id]
        stocked = [lot for lot in lots if lot.quantity_remaining > 0]
        operation = rng.choice(["restock", "restock", "consume", "consume", "recount", "move",
                                "batch", "batch", "cancel", "return"])
        if operation == "restock" or (operation in ("recount", "move") and not stocked):
            quantity, unit, base = amount(item)
            expiry = rng.choice([None, None, "2020-01-01", "2099-12-31", "2098-06-30"])
            response = await adjust({
                "item_id": str(item.id), "adjustment_type": "restock",
                "quantity": str(quantity), "unit": unit,
                "cost_per_unit": str(Decimal(rng.randint(0, 999)) / 100),
                "expiration_date": expiry,
                "location_id": str(shed.id) if rng.random() < 0.3 else None})
            assert response.status_code == 200, response.text
            expected[item.id] += base
            done["restock"] += 1
        elif operation == "consume":
            quantity, unit, base = amount(item, share=4)
            kind = rng.choice(["spoil", "trash", "sale"])
            line = {"item_id": str(item.id), "adjustment_type": kind,
                    "quantity": str(quantity), "unit": unit}
            if stocked and rng.random() < 0.3:
                line["lot_id"] = str(rng.choice(stocked).id)
            response = await adjust(line)
            assert response.status_code in (200, 409), response.text
            if response.status_code == 200:
                expected[item.id] -= base
                done[kind] += 1
        elif operation == "recount":
            lot = rng.choice(stocked)
            counted = (lot.quantity_remaining * Decimal(rng.randint(0, 150)) / 100).quantize(
                Decimal("0.01"))
            response = await adjust({"item_id": str(item.id), "adjustment_type": "recount",
                                     "quantity": str(counted), "lot_id": str(lot.id)})
            assert response.status_code == 200, response.text
            expected[item.id] += counted - lot.quantity_remaining
            done["recount"] += 1
        elif operation == "move":
            lot = rng.choice(stocked)
            portion = lot.quantity_remaining * Decimal(rng.randint(1, 120)) / 100
            response = await client.post(f"{API}/lots/move", headers=headers, json={
                "lot_id": str(lot.id), "quantity": str(portion.quantize(Decimal("0.0001"))),
                "to_location_id": str(workshop.id if lot.location_id == shed.id else shed.id)})
            assert response.status_code in (200, 409), response.text
            done["move"] += response.status_code == 200
        elif operation == "batch":
            chosen = rng.sample(items, rng.randint(1, 3))
            lines = [(i, *amount(i)) for i in chosen]
            event = BatchStarted(
                batch_id=uuid.uuid4(), batch_code="B", recipe_id=uuid.uuid4(),
                recipe_version=1, batch_type="product",
                lines=tuple(BatchLine(item_id=i.id, quantity=q, unit=u, role="ingredient")
                            for i, q, u, _ in lines))
            await deliver(app, envelope_for(event, org))
            async with app.state.db.sessionmaker() as session:
                took = await session.scalar(sa.select(sa.func.count()).select_from(Movement)
                                            .where(Movement.batch_id == event.batch_id))
            done["batch" if took else "batch refused"] += 1
            if took:
                batches[event.batch_id] = {}
                for i, _, _, base in lines:
                    expected[i.id] -= base
                    batches[event.batch_id][i.id] = batches[event.batch_id].get(
                        i.id, Decimal(0)) + base
        elif operation == "cancel" and batches:
            batch_id = rng.choice(list(batches))  # in the order started: replayable
            await deliver(app, envelope_for(BatchCancelled(batch_id=batch_id, batch_code="B"),
                                            org))
            done["cancel"] += 1
            if batch_id not in cancelled:
                cancelled.add(batch_id)
                for item_id, base in batches[batch_id].items():
                    expected[item_id] += base
        elif operation == "return":
            quantity, unit, base = amount(item)
            line = {"item_id": str(item.id), "adjustment_type": "sale_return",
                    "quantity": str(quantity), "unit": unit}
            if lots and rng.random() < 0.5:
                line["lot_id"] = str(rng.choice(lots).id)
            response = await adjust(line)
            assert response.status_code == 200, response.text
            expected[item.id] += base
            done["sale_return"] += 1

    lots = await lots_of(app, org)
    assert all(lot.quantity_remaining >= 0 for lot in lots)
    async with app.state.db.sessionmaker() as session:
        ledger = await recompute(session, org)
    assert ledger.lots == {lot.id: lot.quantity_remaining for lot in lots}
    on_hand = {item.id: sum((lot.quantity_remaining for lot in lots if lot.item_id == item.id),
                            Decimal(0)) for item in items}
    assert {i: ledger.items.get(i, Decimal(0)) for i in on_hand} == on_hand
    assert on_hand == expected
    assert all(done[kind] >= 2 for kind in (
        "restock", "spoil", "trash", "sale", "recount", "move", "batch", "batch refused",
        "cancel", "sale_return")), done
    assert len(cancelled) < done["cancel"]  # some batches were cancelled twice
    check = await client.get(f"{API}/ledger/check", headers=headers)
    assert check.json() == {"consistent": True, "discrepancies": []}
