"""The request-context middleware: the request id in and out, and metrics by route template."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from servicekit.context import current_request_id
from servicekit.errors import install_error_handlers
from servicekit.metrics import ServiceMetrics, metrics_router
from servicekit.middleware import RequestContextMiddleware


def build_app() -> FastAPI:
    metrics = ServiceMetrics("kit")
    app = FastAPI()
    app.state.metrics = metrics
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.include_router(metrics_router())

    @app.get("/things/{thing_id}")
    async def read_thing(thing_id: int) -> dict[str, object]:
        return {"id": thing_id, "request_id": current_request_id()}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://kit.test") as client:
        yield client


def http_requests(exposition: str) -> dict[tuple[str, str, str], float]:
    """http_requests_total samples from a /metrics page, by (method, route, status)."""
    return {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(exposition)
        if family.name == "http_requests"
        for s in family.samples
        if s.name == "http_requests_total"
    }


async def test_a_valid_caller_request_id_is_kept_and_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/things/1", headers={"X-Request-ID": "gw-2026.03:abc_DEF-9"})

    assert response.headers["x-request-id"] == "gw-2026.03:abc_DEF-9"
    assert response.json()["request_id"] == "gw-2026.03:abc_DEF-9"


@pytest.mark.parametrize("request_id", ["r" * 129, "has spaces", "<script>", "semi;colon"],
                         ids=["too-long", "spaces", "angle-brackets", "semicolon"])
async def test_an_invalid_caller_request_id_is_replaced_by_a_generated_one(
        client: httpx.AsyncClient, request_id: str) -> None:
    response = await client.get("/things/1", headers={"X-Request-ID": request_id})

    returned = response.headers["x-request-id"]
    assert returned != request_id
    assert re.fullmatch(r"[0-9a-f]{32}", returned)
    assert response.json()["request_id"] == returned


async def test_a_request_without_a_request_id_gets_a_generated_one(
        client: httpx.AsyncClient) -> None:
    response = await client.get("/things/1")

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_metrics_count_requests_by_route_template_not_concrete_path(
        client: httpx.AsyncClient) -> None:
    await client.get("/things/1")
    await client.get("/things/2")

    response = await client.get("/metrics")

    samples = http_requests(response.text)
    assert samples[("GET", "/things/{thing_id}", "200")] == 2.0
    assert not [key for key in samples if key[1].startswith("/things/") and "{" not in key[1]]


async def test_metrics_count_a_request_no_route_matched_as_unmatched(
        client: httpx.AsyncClient) -> None:
    await client.get("/nowhere/42")

    response = await client.get("/metrics")

    assert http_requests(response.text)[("GET", "unmatched", "404")] == 1.0
