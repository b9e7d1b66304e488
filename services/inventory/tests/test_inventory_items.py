"""Inventory's first slice: items, with ItemChanged written to the outbox in the same commit."""

import json
import uuid
from collections.abc import Callable

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from servicekit.messaging.tables import outbox


def auth(mint_token: Callable[..., str], org_id: uuid.UUID, role: str = "owner") -> dict:
    return {"Authorization": f"Bearer {mint_token(org_id=org_id, role=role)}"}


OLIVE_OIL = {"name": "Olive oil", "type": "ingredient", "default_unit": "g"}


async def test_creating_an_item_writes_item_changed_to_the_outbox(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    response = await client.post("/api/v1/inventory/items", json=OLIVE_OIL,
                                 headers={**auth(mint_token, org), "X-Request-ID": "req-42"})
    assert response.status_code == 201
    item = response.json()
    assert item["name"] == "Olive oil"
    assert item["created_at"].endswith("Z")

    async with app.state.db.sessionmaker() as session:
        rows = (await session.execute(
            sa.select(outbox.c.routing_key, outbox.c.body).where(outbox.c.org_id == str(org))
        )).all()
    assert [row.routing_key for row in rows] == ["inventory.ItemChanged.v1"]
    envelope = json.loads(rows[0].body)
    assert envelope["data"]["item_id"] == item["id"]
    assert envelope["orgid"] == str(org)
    assert envelope["correlationid"] == "req-42"


async def test_items_are_listed_by_page_and_only_for_their_organization(
    client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org, other = uuid.uuid4(), uuid.uuid4()
    for name in ("Lye", "Coconut oil", "Shea butter"):
        await client.post("/api/v1/inventory/items", headers=auth(mint_token, org),
                          json={**OLIVE_OIL, "name": name})
    await client.post("/api/v1/inventory/items", headers=auth(mint_token, other), json=OLIVE_OIL)

    page = (await client.get("/api/v1/inventory/items?per_page=2",
                             headers=auth(mint_token, org))).json()
    assert [i["name"] for i in page["items"]] == ["Coconut oil", "Lye"]
    assert (page["total"], page["pages"], page["has_next"], page["has_prev"]) == (3, 2, True, False)


async def test_another_organizations_item_is_not_found(
    client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    created = await client.post("/api/v1/inventory/items", json=OLIVE_OIL,
                                headers=auth(mint_token, uuid.uuid4()))
    response = await client.get(f"/api/v1/inventory/items/{created.json()['id']}",
                                headers=auth(mint_token, uuid.uuid4()))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


async def test_bad_input_gets_every_bad_field_listed_and_nothing_is_written(
    app: FastAPI, client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    org = uuid.uuid4()
    response = await client.post("/api/v1/inventory/items", headers=auth(mint_token, org),
                                 json={"name": "", "type": "gold", "colour": "red"})
    assert response.status_code == 422
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert set(body["error"]["details"]["fields"]) == {"name", "type", "default_unit", "colour"}
    async with app.state.db.sessionmaker() as session:
        assert await session.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.org_id == str(org))
        ) == 0


async def test_a_duplicate_name_is_a_conflict(
    client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    headers = auth(mint_token, uuid.uuid4())
    await client.post("/api/v1/inventory/items", json=OLIVE_OIL, headers=headers)
    response = await client.post("/api/v1/inventory/items", json=OLIVE_OIL, headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "RESOURCE_CONFLICT"


async def test_requests_without_a_valid_token_or_with_a_viewers_write_are_refused(
    client: httpx.AsyncClient, mint_token: Callable[..., str], token_signer,
) -> None:
    org = uuid.uuid4()
    assert (await client.get("/api/v1/inventory/items")).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await client.get("/api/v1/inventory/items", headers=bad)).status_code == 401
    from datetime import timedelta
    expired = token_signer.sign(user_id="u", org_id=org, role="owner", ttl=timedelta(seconds=-5))
    response = await client.get("/api/v1/inventory/items",
                                headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Token has expired"
    viewer = auth(mint_token, org, role="viewer")
    assert (await client.get("/api/v1/inventory/items", headers=viewer)).status_code == 200
    response = await client.post("/api/v1/inventory/items", json=OLIVE_OIL, headers=viewer)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "INSUFFICIENT_PERMISSIONS"
