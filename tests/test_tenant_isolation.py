"""Tenant isolation across the whole public API, driven by the gateway's merged OpenAPI.

For every operation on a path that takes an id, another organization's id must answer 404 and
change nothing. New endpoints are covered as they arrive: an id path whose collection has no
entry in CREATORS fails this test until one is added.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from servicekit.testing.plugin import eventually
from tests.test_fleet_batches import create_batch

pytestmark = pytest.mark.fleet

Headers = dict[str, str]
Creator = Callable[[httpx.AsyncClient, Headers], Awaitable[str]]
PARAM = re.compile(r"\{[^}]+\}")
# Platform admins work across organizations by design; their routes are tested on their own.
EXEMPT_PREFIXES = ("/api/v1/admin/",)
# Bodies the schema alone cannot tell (rules across fields): valid, so only the id is wrong.
BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/api/v1/users/{user_id}/role"): {"role": "viewer"},
    ("PUT", "/api/v1/inventory/counts/{count_id}/lines"): {
        "lines": [{"lot_id": str(uuid.uuid4()), "counted_quantity": 1}]},
    ("PUT", "/api/v1/recipes/{recipe_id}"): {
        "name": "Stolen", "yield_qty": 1, "yield_unit": "batch",
        "items": [{"item_id": str(uuid.uuid4()), "quantity": 1, "unit": "g"}]},
    ("POST", "/api/v1/batches/{batch_id}/finish"): {
        "products": [{"product_sku_id": str(uuid.uuid4()), "quantity": 1}]},
    ("POST", "/api/v1/batches/{batch_id}/split"): {
        "variants": [{"output_item_id": str(uuid.uuid4()), "quantity": 1, "unit": "bars"}]},
}
# Fields that may change between two reads without anything having been done to the resource.
VOLATILE = {"last_used_at", "last_login_at"}


async def _created(response: httpx.Response, key: str = "id") -> str:
    assert response.status_code == 201, response.text
    body = response.json()
    return str(body.get("data", {}).get("user", {}).get(key) if "data" in body else body[key])


async def create_inventory_item(gateway: httpx.AsyncClient, owner: Headers) -> str:
    return await _created(await gateway.post("/api/v1/inventory/items", headers=owner, json={
        "name": f"Shea butter {uuid.uuid4().hex[:6]}", "type": "ingredient",
        "default_unit": "g"}))


async def create_recipe_item(gateway: httpx.AsyncClient, owner: Headers) -> str:
    item_id = await create_inventory_item(gateway, owner)

    async def arrived() -> None:
        response = await gateway.get(f"/api/v1/recipe-items/{item_id}", headers=owner)
        assert response.status_code == 200
    await eventually(arrived, timeout=20)
    return item_id


async def create_api_key(gateway: httpx.AsyncClient, owner: Headers) -> str:
    return await _created(await gateway.post("/api/v1/api-keys", headers=owner,
                                             json={"name": "shop sync"}))


async def invite_user(gateway: httpx.AsyncClient, owner: Headers) -> str:
    return await _created(await gateway.post("/api/v1/organization/invite-user", headers=owner,
                                             json={"email": f"{uuid.uuid4().hex}@example.com",
                                                   "first_name": "Grace", "last_name": "Hopper",
                                                   "role": "operator"}))


async def _post(gateway: httpx.AsyncClient, owner: Headers, path: str,
                body: dict[str, Any]) -> dict[str, Any]:
    response = await gateway.post(path, headers=owner, json=body)
    assert response.status_code in (200, 201), (path, response.text)
    return response.json()


def _named(path: str, **extra: Any) -> Creator:
    async def create(gateway: httpx.AsyncClient, owner: Headers) -> str:
        body = {"name": f"{path.rsplit('/', 1)[1]} {uuid.uuid4().hex[:6]}", **extra}
        return str((await _post(gateway, owner, path, body))["id"])
    return create


async def restocked(gateway: httpx.AsyncClient, owner: Headers, **item: Any) -> tuple[str, str]:
    """A new item with one lot of stock; (item id, lot id)."""
    item_id = (await _post(gateway, owner, "/api/v1/inventory/items", {
        "name": f"Lye {uuid.uuid4().hex[:6]}", "type": "ingredient", "default_unit": "g",
        **item}))["id"]
    adjusted = await _post(gateway, owner, "/api/v1/inventory/adjustments", {"adjustments": [
        {"item_id": item_id, "adjustment_type": "restock", "quantity": 500,
         "cost_per_unit": 0.01}]})
    return item_id, adjusted["data"]["movements"][0]["lot_id"]


async def create_lot(gateway: httpx.AsyncClient, owner: Headers) -> str:
    return (await restocked(gateway, owner))[1]


async def create_purchase_bill(gateway: httpx.AsyncClient, owner: Headers) -> str:
    item_id = await create_inventory_item(gateway, owner)
    return str((await _post(gateway, owner, "/api/v1/inventory/purchase-bills", {
        "bill_number": "B-1", "lines": [{"item_id": item_id, "quantity": 2, "unit_cost": 3}]}
    ))["id"])


async def create_reservation(gateway: httpx.AsyncClient, owner: Headers) -> str:
    item_id, _ = await restocked(gateway, owner, type="product", default_unit="count",
                                 sku=f"SKU-{uuid.uuid4().hex[:8]}")
    return str((await _post(gateway, owner, "/api/v1/inventory/reservations", {
        "item_id": item_id, "quantity": 2, "customer_name": "Jane Smith"}))["id"])


async def create_recipe(gateway: httpx.AsyncClient, owner: Headers) -> str:
    item_id = await create_inventory_item(gateway, owner)
    return str((await _post(gateway, owner, "/api/v1/recipes", {
        "name": f"Castile {uuid.uuid4().hex[:6]}", "yield_qty": 10, "yield_unit": "bars",
        "items": [{"item_id": item_id, "quantity": 500, "unit": "g"}]}))["id"])


async def create_bom(gateway: httpx.AsyncClient, owner: Headers) -> str:
    recipe_id = await create_recipe(gateway, owner)
    return str((await _post(gateway, owner, "/api/v1/bom/generate", {
        "name": "Weekend", "recipes": [{"recipe_id": recipe_id, "multiplier": 2}]}))["id"])


CREATORS: dict[str, Creator] = {
    "/api/v1/inventory/items": create_inventory_item,
    "/api/v1/inventory/categories": _named("/api/v1/inventory/categories"),
    "/api/v1/inventory/suppliers": _named("/api/v1/inventory/suppliers"),
    "/api/v1/inventory/locations": _named("/api/v1/inventory/locations", kind="warehouse"),
    "/api/v1/inventory/counts": _named("/api/v1/inventory/counts"),
    "/api/v1/inventory/lots": create_lot,
    "/api/v1/inventory/trace/lots": create_lot,
    "/api/v1/inventory/purchase-bills": create_purchase_bill,
    "/api/v1/inventory/reservations": create_reservation,
    "/api/v1/recipe-items": create_recipe_item,
    "/api/v1/recipes": create_recipe,
    "/api/v1/recipe-categories": _named("/api/v1/recipe-categories"),
    "/api/v1/bom": create_bom,
    "/api/v1/api-keys": create_api_key,
    "/api/v1/users": invite_user,
    "/api/v1/batches": create_batch,
}


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def sample(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A small valid value for `schema`: enough to get past validation to the lookup."""
    schema = resolve(document, schema)
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][-1]
    for alternatives in ("anyOf", "oneOf"):
        if alternatives in schema:
            return sample(document, next(s for s in schema[alternatives]
                                         if s.get("type") != "null"))
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: sample(document, prop) for name, prop in schema.get("properties", {}).items()
                if name in schema.get("required", ())}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("format") == "email":
        return "someone@example.com"
    return "x" * max(1, schema.get("minLength", 1))


def id_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation)
            for path, item in document["paths"].items()
            if PARAM.search(path) and not path.startswith(EXEMPT_PREFIXES)
            for method, operation in item.items()]


def further_id(operation: dict[str, Any], placeholder: str) -> str:
    """A value for a path parameter after the first: a fresh uuid, or 1 for a number."""
    name = placeholder.strip("{}")
    schema = next((p.get("schema", {}) for p in operation.get("parameters", ())
                   if p["name"] == name and p["in"] == "path"), {})
    return "1" if schema.get("type") == "integer" else str(uuid.uuid4())


def collection_of(path: str) -> str:
    return path[:PARAM.search(path).start()].rstrip("/")  # type: ignore[union-attr]


def snapshot(response: httpx.Response) -> Any:
    """What a GET showed: its JSON without volatile fields, or its bytes (an export)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return comparable(response.json())
    return response.content


def comparable(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: comparable(v) for k, v in body.items() if k not in VOLATILE}
    return body


async def test_another_organizations_ids_answer_404_and_change_nothing(
    gateway: httpx.AsyncClient, owner: Headers, other_owner: Headers,
) -> None:
    document = (await gateway.get("/openapi.json")).json()
    operations = id_operations(document)
    assert operations, "the public API has no id paths? the merged OpenAPI looks wrong"
    uncovered = sorted({collection_of(path) for _, path, _ in operations} - CREATORS.keys())
    assert not uncovered, f"add a creator for these collections to CREATORS: {uncovered}"

    ids = {collection: await create(gateway, owner) for collection, create in CREATORS.items()}
    before = {}
    for _, path, _ in operations:
        concrete = PARAM.sub(ids[collection_of(path)], path, count=1)
        if "get" in document["paths"][path] and concrete not in before \
                and not PARAM.search(concrete):
            response = await gateway.get(concrete, headers=owner)
            assert response.status_code == 200, (concrete, response.text)
            before[concrete] = snapshot(response)

    answers = []
    for method, path, operation in operations:
        concrete = PARAM.sub(ids[collection_of(path)], path, count=1)
        for placeholder in PARAM.findall(concrete):
            concrete = concrete.replace(placeholder, further_id(operation, placeholder), 1)
        body = BODIES.get((method, path))
        if body is None and "requestBody" in operation:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            body = sample(document, schema)
        response = await gateway.request(method, concrete, headers=other_owner, json=body)
        answers.append((method, path, response.status_code,
                        response.json()["error"]["code"] if response.content else None))

    assert [a for a in answers if a[2:] != (404, "RESOURCE_NOT_FOUND")] == []
    for concrete, seen in before.items():
        after = await gateway.get(concrete, headers=owner)
        assert snapshot(after) == seen, concrete
