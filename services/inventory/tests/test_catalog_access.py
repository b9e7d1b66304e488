"""Who may see and change the catalog: another organization's ids are not found on any route,
and viewers read but never write."""

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

API = "/api/v1/inventory"


def auth(mint_token: Callable[..., str], org: uuid.UUID, role: str = "owner") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(org_id=org, role=role)}"}


async def a_catalog(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    """One of everything, by kind: their ids."""
    ids = {}
    for what, body in (
        ("items", {"name": "Soap", "type": "product", "default_unit": "count"}),
        ("categories", {"name": "Soaps"}),
        ("suppliers", {"name": "Oil Co"}),
        ("locations", {"name": "Workshop"}),
    ):
        response = await client.post(f"{API}/{what}", json=body, headers=headers)
        assert response.status_code == 201, response.text
        ids[what] = response.json()["id"]
    return ids


ROUTES_BY_ID = [
    ("GET", "items/{items}", None),
    ("PATCH", "items/{items}", {"name": "Mine now"}),
    ("DELETE", "items/{items}", None),
    ("GET", "items/{items}/variants", None),
    ("GET", "items/{items}/stock", None),
    ("GET", "categories/{categories}", None),
    ("PATCH", "categories/{categories}", {"name": "Mine now"}),
    ("DELETE", "categories/{categories}", None),
    ("GET", "suppliers/{suppliers}", None),
    ("PATCH", "suppliers/{suppliers}", {"name": "Mine now"}),
    ("DELETE", "suppliers/{suppliers}", None),
    ("GET", "locations/{locations}", None),
    ("PATCH", "locations/{locations}", {"name": "Mine now"}),
    ("DELETE", "locations/{locations}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES_BY_ID,
                         ids=[f"{m} {p}" for m, p, _ in ROUTES_BY_ID])
async def test_another_organizations_id_is_not_found(
    client: httpx.AsyncClient, mint_token: Callable[..., str], method: str, path: str,
    body: dict[str, Any] | None,
) -> None:
    owner = auth(mint_token, uuid.uuid4())
    ids = await a_catalog(client, owner)
    url = f"{API}/{path.format(**ids)}"
    response = await client.request(method, url, json=body,
                                    headers=auth(mint_token, uuid.uuid4()))
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert (await client.get(url, headers=owner)).status_code == 200  # and it is unchanged
    if body:
        assert (await client.get(url, headers=owner)).json()["name"] != "Mine now"


async def test_another_organizations_item_is_not_found_for_a_conversion(
    client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    ids = await a_catalog(client, auth(mint_token, uuid.uuid4()))
    response = await client.post("/api/v1/units/convert", headers=auth(mint_token, uuid.uuid4()),
                                 json={"from_unit": "g", "to_unit": "kg", "quantity": 1,
                                       "item_id": ids["items"]})
    assert response.status_code == 404


async def test_lists_show_only_the_callers_organization(
    client: httpx.AsyncClient, mint_token: Callable[..., str],
) -> None:
    await a_catalog(client, auth(mint_token, uuid.uuid4()))
    mine = auth(mint_token, uuid.uuid4(), role="viewer")
    for what in ("items", "categories", "suppliers", "locations"):
        assert (await client.get(f"{API}/{what}", headers=mine)).json()["total"] == 0


WRITES = [
    ("POST", "items", {"name": "Lye", "type": "ingredient", "default_unit": "g"}),
    ("PATCH", "items/{items}", {"name": "Lye"}),
    ("DELETE", "items/{items}", None),
    ("POST", "categories", {"name": "Oils"}),
    ("PATCH", "categories/{categories}", {"name": "Oils"}),
    ("DELETE", "categories/{categories}", None),
    ("POST", "suppliers", {"name": "Lye Co"}),
    ("PATCH", "suppliers/{suppliers}", {"name": "Lye Co"}),
    ("DELETE", "suppliers/{suppliers}", None),
    ("POST", "locations", {"name": "Shed"}),
    ("PATCH", "locations/{locations}", {"name": "Shed"}),
    ("DELETE", "locations/{locations}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES,
                         ids=[f"{m} {p}" for m, p, _ in WRITES])
async def test_a_viewer_reads_but_cannot_write(
    client: httpx.AsyncClient, mint_token: Callable[..., str], method: str, path: str,
    body: dict[str, Any] | None,
) -> None:
    org = uuid.uuid4()
    ids = await a_catalog(client, auth(mint_token, org))
    viewer = auth(mint_token, org, role="viewer")
    response = await client.request(method, f"{API}/{path.format(**ids)}", json=body,
                                    headers=viewer)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "INSUFFICIENT_PERMISSIONS"
    what = path.split("/")[0]
    assert (await client.get(f"{API}/{what}/{ids[what]}", headers=viewer)).status_code == 200
