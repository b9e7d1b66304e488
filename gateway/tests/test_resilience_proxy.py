"""Timeouts per service, retries for idempotent requests that never arrived, and a circuit
breaker per service: through a real gateway, against upstreams served by uvicorn and TCP
listeners these tests control.

The gateway's own attempts are counted at the transport it sends through (httpx-aiohttp's,
as in production, wrapped): that is the boundary where "sent again" is visible. Whether an
open circuit touches the network is counted where it would show, at a listener's accepts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import httpx
import pytest
from fastapi import FastAPI
from httpx_aiohttp import AiohttpTransport
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.proxy import Upstreams
from gateway.settings import GatewaySettings

IDEMPOTENT = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]
NOT_IDEMPOTENT = ["POST", "PATCH"]


class CountingTransport(httpx.AsyncBaseTransport):
    """httpx-aiohttp's transport, counting the requests the gateway hands it.

    With `unreachable_first=n`, the first n go to a port where nothing listens instead, and
    fail as a refused connection does.
    """

    def __init__(self, *, unreachable_first: int = 0, dead_url: str = "") -> None:
        # A callable: the session is made on first use, inside the running loop.
        self.inner = AiohttpTransport(client=aiohttp.ClientSession)
        self.unreachable_first = unreachable_first
        self.dead_url = dead_url
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.attempts <= self.unreachable_first:
            request = httpx.Request(request.method, self.dead_url)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class HangUpListener:
    """A TCP port that accepts connections and closes them at once, counting them."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> HangUpListener:
        self.server = await asyncio.start_server(self._hang_up, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _hang_up(self, _: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()


def answering(*statuses: int, delay: float = 0.0) -> tuple[Starlette, list[str]]:
    """A service that answers with `statuses` in turn (the last one from then on) after
    `delay` seconds, and the list of paths it was asked for."""
    seen: list[str] = []

    async def answer(request: Request) -> Response:
        seen.append(request.url.path)
        await asyncio.sleep(delay)
        status = statuses[min(len(seen), len(statuses)) - 1] if statuses else 200
        return Response(f"{status} from the service", status_code=status)

    methods = [*IDEMPOTENT, *NOT_IDEMPOTENT]
    return Starlette(routes=[Route("/{path:path}", answer, methods=methods)]), seen


def assert_refused_by_circuit(response: httpx.Response, service: str, *,
                              retry_after: str = "1") -> None:
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert body["error"]["details"] == {"service": service, "circuit": "open"}
    assert response.headers["retry-after"] == retry_after


@asynccontextmanager
async def opened_circuit(gateway, listener: HangUpListener, apps: list[FastAPI], *,
                         reset_seconds: float = 0.5) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway whose batches circuit was opened by three dropped connections."""
    async with gateway(batches_url=listener.url, breaker_failure_threshold=3,
                       breaker_reset_seconds=reset_seconds, configure=apps.append) as client:
        # POST: aiohttp reconnects once by itself when an idempotent request's connection
        # drops; a POST makes exactly one connection per request.
        for _ in range(3):
            response = await client.post("/api/v1/batches/start", json={})
            assert response.status_code == 502
        assert listener.connections == 3
        yield client


def batches_breaker(apps: list[FastAPI]):
    return apps[0].state.upstreams.breakers["batches"]


# Retries


@pytest.mark.parametrize("method", IDEMPOTENT)
async def test_an_idempotent_request_that_did_not_reach_its_service_is_sent_again(
        gateway, dead_url, method):
    transport = CountingTransport()
    async with gateway(inventory_url=dead_url, idempotent_retries=2,
                       upstream_transports={"inventory": transport}) as client:
        response = await client.request(method, "/api/v1/inventory/items/1")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert transport.attempts == 3


@pytest.mark.parametrize("method", NOT_IDEMPOTENT)
async def test_a_post_or_patch_that_did_not_reach_its_service_is_sent_once(
        gateway, dead_url, method):
    transport = CountingTransport()
    async with gateway(inventory_url=dead_url, idempotent_retries=2,
                       upstream_transports={"inventory": transport}) as client:
        response = await client.request(method, "/api/v1/inventory/items/1", json={})

    assert response.status_code == 503
    assert transport.attempts == 1


async def test_one_extra_attempt_is_the_default(gateway, dead_url):
    transport = CountingTransport()
    async with gateway(inventory_url=dead_url,
                       upstream_transports={"inventory": transport}) as client:
        await client.get("/api/v1/inventory/items")

    assert transport.attempts == 2


async def test_no_extra_attempt_when_retries_are_off(gateway, dead_url):
    transport = CountingTransport()
    async with gateway(inventory_url=dead_url, idempotent_retries=0,
                       upstream_transports={"inventory": transport}) as client:
        await client.get("/api/v1/inventory/items")

    assert transport.attempts == 1


async def test_attempts_are_spaced_by_a_short_pause(gateway, dead_url):
    transport = CountingTransport()
    async with gateway(inventory_url=dead_url, idempotent_retries=2,
                       upstream_transports={"inventory": transport}) as client:
        started = time.perf_counter()
        await client.get("/api/v1/inventory/items")
        elapsed = time.perf_counter() - started

    assert elapsed >= 2 * 0.05


async def test_a_put_that_reaches_its_service_on_the_second_attempt_arrives_whole(
        gateway, upstream_url, dead_url):
    transport = CountingTransport(unreachable_first=1, dead_url=dead_url)
    async with gateway(inventory_url=upstream_url,
                       upstream_transports={"inventory": transport}) as client:
        response = await client.put("/api/v1/inventory/items/7", json={"name": "lye"},
                                    headers={"X-Request-ID": "req-retried"})

    assert response.status_code == 200
    echoed = response.json()
    assert (echoed["method"], echoed["path"]) == ("PUT", "/api/v1/inventory/items/7")
    assert echoed["body"] == '{"name":"lye"}'
    assert ["x-request-id", "req-retried"] in echoed["headers"]
    assert transport.attempts == 2


async def test_a_get_whose_service_timed_out_is_not_sent_again(gateway, serve):
    app, seen = answering(delay=0.6)
    transport = CountingTransport()
    async with serve(app) as url, gateway(
            inventory_url=url, per_upstream_timeout_seconds={"inventory": 0.3},
            upstream_transports={"inventory": transport}) as client:
        response = await client.get("/api/v1/inventory/items")

    assert response.status_code == 504
    assert transport.attempts == 1
    assert seen == ["/api/v1/inventory/items"]


async def test_a_get_whose_connection_was_dropped_is_not_sent_again(gateway):
    transport = CountingTransport()
    async with HangUpListener() as listener, gateway(
            inventory_url=listener.url, upstream_transports={"inventory": transport}) as client:
        response = await client.get("/api/v1/inventory/items")

    assert response.status_code == 502
    assert transport.attempts == 1


# Timeouts per service


async def test_each_service_has_its_own_read_timeout(gateway, serve):
    app, _ = answering(delay=0.6)
    async with serve(app) as url, gateway(
            inventory_url=url, recipes_url=url, upstream_timeout_seconds=5,
            per_upstream_timeout_seconds={"inventory": 0.3}) as client:
        inventory, recipes = await asyncio.gather(client.get("/api/v1/inventory/items"),
                                                  client.get("/api/v1/recipes"))

    assert inventory.status_code == 504
    assert recipes.status_code == 200


def test_a_timeout_for_a_service_that_does_not_exist_is_refused_at_startup():
    settings = GatewaySettings(per_upstream_timeout_seconds={"forecastng": 30})

    with pytest.raises(ValueError, match="forecastng"):
        Upstreams(settings)


# Circuit breaker


async def test_a_circuit_opens_after_consecutive_failures_and_refuses_without_connecting(
        gateway):
    apps: list[FastAPI] = []
    async with HangUpListener() as listener, \
            opened_circuit(gateway, listener, apps, reset_seconds=30) as client:
        refused = await client.post("/api/v1/batches/start", json={})
        also_refused = await client.get("/api/v1/batches")

        assert batches_breaker(apps).state == "open"

    assert_refused_by_circuit(refused, "batches", retry_after="30")
    assert_refused_by_circuit(also_refused, "batches", retry_after="30")
    assert listener.connections == 3


async def test_a_dead_service_opens_its_circuit(gateway, dead_url):
    transport = CountingTransport()
    async with gateway(batches_url=dead_url, breaker_failure_threshold=2,
                       upstream_transports={"batches": transport}) as client:
        # A request that was sent again is one failure, not two.
        first = await client.get("/api/v1/batches")
        second = await client.get("/api/v1/batches")
        third = await client.get("/api/v1/batches")

    assert [first.status_code, second.status_code] == [503, 503]
    assert first.json()["error"]["details"] == {"service": "batches"}
    assert third.json()["error"]["details"] == {"service": "batches", "circuit": "open"}
    assert int(third.headers["retry-after"]) == 10
    assert transport.attempts == 4


async def test_after_the_reset_time_one_trial_reaches_the_service(gateway):
    apps: list[FastAPI] = []
    async with HangUpListener() as listener, opened_circuit(gateway, listener, apps) as client:
        await asyncio.sleep(0.55)
        assert batches_breaker(apps).state == "half_open"

        trial = await client.post("/api/v1/batches/start", json={})
        after_trial = await client.post("/api/v1/batches/start", json={})

        assert batches_breaker(apps).state == "open"

    assert trial.status_code == 502
    assert_refused_by_circuit(after_trial, "batches")
    assert listener.connections == 4


async def test_a_circuit_closes_once_its_service_is_back(gateway, serve, upstream_app):
    apps: list[FastAPI] = []
    async with HangUpListener() as listener, opened_circuit(gateway, listener, apps) as client:
        await listener.close()
        async with serve(upstream_app("batches"), port=listener.port):
            await asyncio.sleep(0.55)
            trial = await client.post("/api/v1/batches/start", json={})
            # Closed, not half-open: concurrent calls all go through.
            after = await asyncio.gather(*(client.get("/api/v1/batches") for _ in range(5)))

        assert batches_breaker(apps).state == "closed"

    assert trial.status_code == 201
    assert trial.headers["x-upstream"] == "batches"
    assert [response.status_code for response in after] == [200] * 5


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_errors_from_a_service_count_against_its_circuit(gateway, serve, status):
    app, seen = answering(status)
    async with serve(app) as url, gateway(inventory_url=url,
                                          breaker_failure_threshold=2) as client:
        answers = [await client.get("/api/v1/inventory/items") for _ in range(3)]

    assert [response.text for response in answers[:2]] == [f"{status} from the service"] * 2
    assert answers[2].json()["error"]["details"] == {"service": "inventory", "circuit": "open"}
    assert len(seen) == 2


async def test_other_errors_from_a_service_do_not_open_its_circuit(gateway, serve):
    app, seen = answering(500)
    async with serve(app) as url, gateway(inventory_url=url,
                                          breaker_failure_threshold=2) as client:
        answers = [await client.get("/api/v1/inventory/items") for _ in range(4)]

    assert [response.status_code for response in answers] == [500] * 4
    assert len(seen) == 4


async def test_only_consecutive_failures_open_a_circuit(gateway, serve):
    app, seen = answering(503, 200, 503, 503)
    async with serve(app) as url, gateway(inventory_url=url,
                                          breaker_failure_threshold=2) as client:
        answers = [await client.get("/api/v1/inventory/items") for _ in range(5)]

    assert [response.status_code for response in answers[:4]] == [503, 200, 503, 503]
    assert answers[4].json()["error"]["details"] == {"service": "inventory", "circuit": "open"}
    assert len(seen) == 4


async def test_each_service_has_its_own_circuit(gateway, dead_url):
    async with gateway(inventory_url=dead_url, breaker_failure_threshold=1,
                       idempotent_retries=0) as client:
        await client.get("/api/v1/inventory/items")
        inventory = await client.get("/api/v1/inventory/items")
        recipes = await client.get("/api/v1/recipes")

    assert inventory.json()["error"]["details"]["circuit"] == "open"
    assert recipes.status_code == 200
