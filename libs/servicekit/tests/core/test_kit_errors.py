"""Every error an app raises leaves as the fleet's error envelope, with the status it means."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, ConfigDict, Field

from servicekit.errors import DomainError, install_error_handlers
from servicekit.middleware import RequestContextMiddleware


class LotExpired(DomainError):
    status_code = 409
    code = "LOT_EXPIRED"
    default_message = "The lot has expired"


class Adjustment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(min_length=1)
    quantity: Decimal = Field(gt=0)


class AdjustmentsCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    adjustments: list[Adjustment]


def build_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)

    @app.get("/lots/{lot_id}")
    async def read_lot(lot_id: str) -> dict[str, str]:
        raise LotExpired(f"Lot {lot_id} expired on 2026-01-31",
                         details={"lot_id": lot_id, "expired_on": "2026-01-31"})

    @app.post("/adjustments")
    async def adjust(body: AdjustmentsCreate,
                     per_page: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, int]:
        return {"count": len(body.adjustments)}

    @app.get("/explode")
    async def explode() -> dict[str, str]:
        raise RuntimeError("password=hunter2 leaked from the connection string")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: answer with the 500 the app sends, as a real server would,
    # instead of re-raising the exception into the test.
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit.test") as client:
        yield client


async def test_a_domain_error_becomes_its_status_code_message_and_details(
        client: httpx.AsyncClient) -> None:
    response = await client.get("/lots/L-7")

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "LOT_EXPIRED",
        "message": "Lot L-7 expired on 2026-01-31",
        "details": {"lot_id": "L-7", "expired_on": "2026-01-31"},
    }


async def test_a_validation_error_lists_every_bad_field_by_its_dotted_path(
        client: httpx.AsyncClient) -> None:
    body = {"adjustments": [{"item_id": "flour", "quantity": "-1"},
                            {"item_id": "", "quantity": "2"}]}

    response = await client.post("/adjustments", params={"per_page": 500}, json=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert set(error["details"]["fields"]) == {
        "adjustments.0.quantity", "adjustments.1.item_id", "query.per_page",
    }
    assert all(messages for messages in error["details"]["fields"].values())


async def test_a_malformed_json_body_is_reported_under_body_not_a_character_offset(
        client: httpx.AsyncClient) -> None:
    response = await client.post("/adjustments", content=b'{"adjustments": [,]}',
                                 headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert list(response.json()["error"]["details"]["fields"]) == ["body"]


async def test_an_unknown_route_answers_404_resource_not_found(
        client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


async def test_a_wrong_method_answers_405_method_not_allowed(client: httpx.AsyncClient) -> None:
    response = await client.delete("/lots/L-7")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "GET"


async def test_an_unexpected_exception_answers_500_without_leaking_its_text(
        client: httpx.AsyncClient) -> None:
    response = await client.get("/explode")

    assert response.status_code == 500
    assert response.json()["error"] == {
        "code": "INTERNAL_SERVER_ERROR", "message": "An unexpected error occurred", "details": {},
    }
    assert "hunter2" not in response.text


REQUESTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "domain-error": ("GET", "/lots/L-7", {}),
    "validation-error": ("POST", "/adjustments", {"json": {"adjustments": "none"}}),
    "unknown-route": ("GET", "/nowhere", {}),
    "wrong-method": ("DELETE", "/lots/L-7", {}),
    "unexpected-error": ("GET", "/explode", {}),
}


@pytest.mark.parametrize("request_", REQUESTS.values(), ids=REQUESTS.keys())
async def test_every_error_envelope_names_the_request_id_the_response_header_returns(
        client: httpx.AsyncClient, request_: tuple[str, str, dict[str, Any]]) -> None:
    method, path, options = request_

    response = await client.request(method, path, **options)

    body = response.json()
    assert body["success"] is False
    assert body["timestamp"].endswith("Z")
    assert "x-request-id" in response.headers
    assert body["request_id"] == response.headers["x-request-id"]
