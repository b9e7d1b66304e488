"""The read model of inventory's items, fed by ItemChanged through the real consumer path."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from recipes.testing import item_changed
from servicekit.messaging import Delivery, Envelope
from servicekit.messaging.tables import inbox
from servicekit.messaging.transport import Verdict


async def deliver(app: FastAPI, envelope: Envelope, attempt: int = 1) -> Verdict:
    disposition = await app.state.runtime.consumer.on_delivery(
        Delivery(body=envelope.to_bytes(), routing_key=envelope.type, message_id=envelope.id,
                 attempt=attempt)
    )
    return disposition.verdict


def auth(mint_token: Callable[..., str], org_id: uuid.UUID, role: str = "viewer") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(org_id=org_id, role=role)}"}


async def test_an_item_changed_appears_in_its_organizations_recipe_items(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    envelope = item_changed(org, sku="OIL-1", density_g_per_ml="0.91", unit_cost="0.012345",
                            allergens=["tree nuts"])

    assert await deliver(app, envelope) is Verdict.ACK

    response = await client.get(f"/api/v1/recipe-items/{envelope.subject}",
                                headers=auth(mint_token, org))
    assert response.status_code == 200
    assert response.json() == {
        "item_id": envelope.subject, "name": "Olive oil", "type": "ingredient",
        "default_unit": "g", "sku": "OIL-1", "density_g_per_ml": 0.91, "unit_cost": 0.012345,
        "allergens": ["tree nuts"], "archived": False, "count_unit": None,
        "nutrition_per_100g": None, "category_name": None, "supplier_name": None,
        "purchase_unit": None, "purchase_quantity": None, "purchase_price": None,
        "shelf_life_days": None,
        "updated_at": envelope.time.isoformat().replace("+00:00", "Z"),
    }


async def test_another_organization_neither_lists_nor_finds_the_item(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    envelope = item_changed(uuid.uuid4())
    await deliver(app, envelope)
    stranger = auth(mint_token, uuid.uuid4())

    listed = await client.get("/api/v1/recipe-items", headers=stranger)
    fetched = await client.get(f"/api/v1/recipe-items/{envelope.subject}", headers=stranger)

    assert listed.json()["items"] == []
    assert listed.json()["total"] == 0
    assert fetched.status_code == 404
    assert fetched.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


async def test_the_organization_comes_from_the_envelope_not_the_payload(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org, other = uuid.uuid4(), uuid.uuid4()
    envelope = item_changed(org, extra_data={"org_id": str(other)})

    await deliver(app, envelope)

    owner = await client.get("/api/v1/recipe-items", headers=auth(mint_token, org))
    payload_org = await client.get("/api/v1/recipe-items", headers=auth(mint_token, other))
    assert [item["item_id"] for item in owner.json()["items"]] == [envelope.subject]
    assert payload_org.json()["total"] == 0


async def test_a_redelivered_item_changed_takes_effect_once(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    envelope = item_changed(org)
    await deliver(app, envelope)

    assert await deliver(app, envelope, attempt=2) is Verdict.ACK

    async with app.state.db.engine.connect() as conn:
        claims = await conn.scalar(
            sa.select(sa.func.count()).select_from(inbox).where(inbox.c.event_id == envelope.id)
        )
    assert claims == 1
    metrics = (await client.get("/metrics")).text
    assert ('events_consumed_total{outcome="duplicate",type="inventory.ItemChanged.v1"} 1.0'
            in metrics)
    listed = await client.get("/api/v1/recipe-items", headers=auth(mint_token, org))
    assert listed.json()["total"] == 1


async def test_a_newer_item_changed_updates_the_item(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org, item_id = uuid.uuid4(), uuid.uuid4()
    first = datetime.now(UTC) - timedelta(minutes=1)
    await deliver(app, item_changed(org, item_id=item_id, unit_cost="4.50", time=first))

    await deliver(app, item_changed(org, item_id=item_id, name="Olive oil, organic",
                                    unit_cost="5.25", archived=True))

    item = (await client.get(f"/api/v1/recipe-items/{item_id}", headers=auth(mint_token, org)))
    assert item.json()["name"] == "Olive oil, organic"
    assert item.json()["unit_cost"] == 5.25
    assert item.json()["archived"] is True


async def test_an_older_item_changed_does_not_overwrite_a_newer_one(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org, item_id = uuid.uuid4(), uuid.uuid4()
    newer = item_changed(org, item_id=item_id, name="Olive oil, organic")
    older = item_changed(org, item_id=item_id, name="Olive oil",
                         time=newer.time - timedelta(seconds=30))
    await deliver(app, newer)

    assert await deliver(app, older) is Verdict.ACK

    item = (await client.get(f"/api/v1/recipe-items/{item_id}", headers=auth(mint_token, org)))
    assert item.json()["name"] == "Olive oil, organic"
    assert item.json()["updated_at"] == newer.time.isoformat().replace("+00:00", "Z")


async def test_an_item_id_held_by_another_organization_is_not_taken_over(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org, intruder, item_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await deliver(app, item_changed(org, item_id=item_id, name="Olive oil"))

    await deliver(app, item_changed(intruder, item_id=item_id, name="Hijacked"))

    item = await client.get(f"/api/v1/recipe-items/{item_id}", headers=auth(mint_token, org))
    assert item.json()["name"] == "Olive oil"
    missing = await client.get(f"/api/v1/recipe-items/{item_id}",
                               headers=auth(mint_token, intruder))
    assert missing.status_code == 404


async def test_recipe_items_are_searched_by_name_and_ordered_by_name(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    for name in ("Olive oil", "Lye", "Coconut Oil"):
        await deliver(app, item_changed(org, name=name))

    response = await client.get("/api/v1/recipe-items", params={"search": "OIL", "per_page": 1},
                                headers=auth(mint_token, org))

    body = response.json()
    assert [item["name"] for item in body["items"]] == ["Coconut Oil"]
    assert (body["total"], body["page"], body["pages"], body["has_next"], body["has_prev"]) == (
        2, 1, 2, True, False,
    )


async def test_an_item_changed_published_on_the_broker_reaches_the_read_model(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
    eventually: Callable[..., Any],
) -> None:
    org = uuid.uuid4()
    envelope = item_changed(org)

    await app.state.runtime.transport.publish(envelope.type, envelope.to_bytes(),
                                              message_id=envelope.id)

    async def recorded() -> None:
        response = await client.get(f"/api/v1/recipe-items/{envelope.subject}",
                                    headers=auth(mint_token, org))
        assert response.status_code == 200

    await eventually(recorded, timeout=5)
