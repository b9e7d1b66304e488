import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.app import create_app
from gateway.identity.testing import access_token
from gateway.proxy import Authorize, Proxy, Upstreams
from gateway.settings import GatewaySettings
from servicekit.identity import TokenVerifier

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def received_headers(response: httpx.Response) -> dict[str, list[str]]:
    """The headers the echoing upstream received, by lower-case name."""
    headers: dict[str, list[str]] = {}
    for name, value in response.json()["headers"]:
        headers.setdefault(name, []).append(value)
    return headers


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["timestamp"].endswith("Z")
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_a_get_passes_through_with_status_headers_body_and_request_id(client, token_keys):
    response = await client.get("/api/v1/inventory/items/7", headers={"X-Request-ID": "req-1.a:b"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-upstream"] == "echo"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["etag"] == '"v1"'
    assert response.headers.get_list("x-request-id") == ["req-1.a:b"]
    echoed = response.json()
    assert (echoed["method"], echoed["path"]) == ("GET", "/api/v1/inventory/items/7")
    received = received_headers(response)
    assert received["x-request-id"] == ["req-1.a:b"]
    [authorization] = received["authorization"]
    service_caller = TokenVerifier(token_keys[1]).verify(authorization.removeprefix("Bearer "))
    assert service_caller.role == "owner"
    assert "content-length" not in received


async def test_a_post_with_a_json_body_arrives_intact_and_its_answer_comes_back(client):
    payload = {"adjustments": [{"item_id": "abc", "quantity": 1.25}], "notes": "été ✓"}

    response = await client.post("/api/v1/inventory/adjustments", json=payload,
                                 headers={"X-Request-ID": "req-2"})

    assert response.status_code == 201
    assert response.headers.get_list("x-request-id") == ["req-2"]
    echoed = response.json()
    assert echoed["method"] == "POST"
    assert json.loads(echoed["body"]) == payload
    received = received_headers(response)
    assert received["content-type"] == ["application/json"]
    assert received["content-length"] == [str(len(echoed["body"].encode()))]
    assert received["x-request-id"] == ["req-2"]


async def test_a_post_without_a_content_type_gets_none_added(client):
    response = await client.post("/api/v1/sales/import", content=b"sku,qty\nA,1\n")

    assert response.json()["body"] == "sku,qty\nA,1\n"
    assert "content-type" not in received_headers(response)


async def test_the_query_string_is_kept_as_sent(client):
    response = await client.get(
        "/api/v1/inventory/items?type=ingredient&search=shea%20butter&page=2&page=3"
    )

    assert response.json()["query"] == "type=ingredient&search=shea%20butter&page=2&page=3"


async def test_an_encoded_path_reaches_the_service_still_encoded(client):
    response = await client.get("/api/v1/recipes/prefix%2Fname/caf%C3%A9")

    assert response.json()["raw_path"] == "/api/v1/recipes/prefix%2Fname/caf%C3%A9"


async def test_hop_by_hop_request_headers_are_dropped(client):
    response = await client.get("/api/v1/batches", headers={
        "Connection": "keep-alive, X-Hop-Secret", "X-Hop-Secret": "s3cret",
        "Keep-Alive": "timeout=30", "TE": "trailers", "Trailers": "X-Sum",
        "Proxy-Authorization": "Basic Zm9vOmJhcg==", "Proxy-Connection": "keep-alive",
        "X-Kept": "yes",
    })

    received = received_headers(response)
    for name in ("x-hop-secret", "keep-alive", "te", "trailers", "proxy-authorization",
                 "proxy-connection"):
        assert name not in received, name
    assert received["x-kept"] == ["yes"]
    assert received["host"] != [client.base_url.netloc.decode()]


async def test_hop_by_hop_response_headers_are_dropped(client):
    response = await client.get("/api/v1/inventory/hop-by-hop")

    assert response.status_code == 200
    for name in ("keep-alive", "proxy-authenticate", "x-hop-secret", "trailer"):
        assert name not in response.headers, name
    assert response.headers["x-kept"] == "yes"
    assert len(response.headers.get_list("date")) == 1
    assert len(response.headers.get_list("server")) == 1


async def test_a_malformed_request_id_is_replaced_by_a_fresh_one(client):
    response = await client.get("/api/v1/units", headers={"X-Request-ID": "no spaces allowed"})

    request_id = response.headers["x-request-id"]
    assert HEX_ID.match(request_id)
    assert received_headers(response)["x-request-id"] == [request_id]


async def test_a_request_without_an_id_gets_one_that_the_service_sees(client):
    response = await client.get("/api/v1/units")

    request_id = response.headers["x-request-id"]
    assert HEX_ID.match(request_id)
    assert received_headers(response)["x-request-id"] == [request_id]


async def test_forwarded_headers_name_the_caller_and_the_original_host(client):
    response = await client.get("/api/v1/forecasts")

    received = received_headers(response)
    assert received["x-forwarded-for"] == ["127.0.0.1"]
    assert received["x-forwarded-proto"] == ["http"]
    assert received["x-forwarded-host"] == [client.base_url.netloc.decode()]


async def test_the_caller_is_appended_to_a_forwarded_chain_from_an_untrusted_peer(gateway):
    async with gateway(uvicorn_options={"forwarded_allow_ips": ""}) as client:
        response = await client.get("/api/v1/forecasts", headers={"X-Forwarded-For": "10.0.0.1"})

    assert received_headers(response)["x-forwarded-for"] == ["10.0.0.1, 127.0.0.1"]


async def test_a_trusted_proxys_chain_already_ends_with_the_caller(client):
    # uvicorn trusts 127.0.0.1 by default and takes the caller from the header.
    response = await client.get("/api/v1/forecasts", headers={"X-Forwarded-For": "203.0.113.9"})

    assert received_headers(response)["x-forwarded-for"] == ["203.0.113.9"]


async def test_a_body_over_the_limit_is_refused_with_413(gateway):
    async with gateway(max_body_bytes=1024) as client:
        response = await client.post("/api/v1/inventory/items", content=b"x" * 1025)

    body = assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert body["error"]["details"] == {"max_bytes": 1024}
    assert response.headers["connection"] == "close"


async def test_a_chunked_body_over_the_limit_is_refused_with_413(gateway):
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 300

    async with gateway(max_body_bytes=1024) as client:
        response = await client.post("/api/v1/sales/import", content=chunks())

    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


async def test_a_chunked_body_within_the_limit_arrives_whole(gateway):
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(4):
            yield str(i).encode() * 256

    async with gateway(max_body_bytes=1024) as client:
        response = await client.post("/api/v1/sales/import", content=chunks())

    assert response.status_code == 201
    assert response.json()["body"] == "".join(str(i) * 256 for i in range(4))
    assert received_headers(response)["content-length"] == ["1024"]


async def test_an_unknown_area_answers_404_in_the_envelope(client):
    response = await client.get("/api/v1/nonsense/items", headers={"X-Request-ID": "req-404"})

    body = assert_envelope(response, 404, "RESOURCE_NOT_FOUND")
    assert body["request_id"] == "req-404"


async def test_a_dead_upstream_answers_503_with_retry_after(gateway, dead_url):
    async with gateway(inventory_url=dead_url) as client:
        response = await client.get("/api/v1/inventory/items")

    body = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "5"
    assert body["error"]["details"] == {"service": "inventory"}


async def test_a_slow_upstream_answers_504(gateway):
    async with gateway(upstream_timeout_seconds=0.3) as client:
        response = await client.get("/api/v1/inventory/slow")

    body = assert_envelope(response, 504, "UPSTREAM_TIMEOUT")
    assert "retry-after" not in response.headers
    assert body["error"]["details"] == {"service": "inventory"}


async def test_an_upstream_that_hangs_up_answers_502(gateway):
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server, gateway(batches_url=url) as client:
        response = await client.post("/api/v1/batches/start", json={})

    assert_envelope(response, 502, "BAD_GATEWAY")
    assert "retry-after" not in response.headers


async def test_cookies_an_upstream_sets_are_not_replayed_to_later_callers(client):
    first = await client.get("/api/v1/inventory/sets-cookie")
    client.cookies.clear()
    second = await client.get("/api/v1/inventory/items")

    assert "session=alice-only" in first.headers["set-cookie"]
    assert "cookie" not in received_headers(second)


async def test_a_streamed_response_arrives_whole(client):
    response = await client.get("/api/v1/inventory/stream")

    assert response.status_code == 200
    assert response.text == "".join(f"line {i}\n" * 100 for i in range(50))


async def test_a_head_request_gets_headers_and_no_body(client):
    response = await client.head("/api/v1/inventory/items")

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["x-upstream"] == "echo"


async def test_shopify_webhooks_reach_integrations(gateway, serve, upstream_app):
    async with serve(upstream_app("integrations")) as url, \
            gateway(integrations_url=url) as client:
        response = await client.post("/webhooks/shopify/chan-1", content=b"{}",
                                     headers={"X-Shopify-Hmac-Sha256": "abc="})

    assert response.headers["x-upstream"] == "integrations"
    assert response.json()["path"] == "/webhooks/shopify/chan-1"
    assert received_headers(response)["x-shopify-hmac-sha256"] == ["abc="]


async def test_each_area_reaches_its_own_service(gateway, serve, upstream_app):
    async with serve(upstream_app("recipes")) as recipes, \
            serve(upstream_app("forecasting")) as forecasting, \
            gateway(recipes_url=recipes, forecasting_url=forecasting) as client:
        bom = await client.get("/api/v1/bom")
        stock = await client.post("/api/v1/stock/reorder-report")
        units = await client.get("/api/v1/units")

    assert bom.headers["x-upstream"] == "recipes"
    assert stock.headers["x-upstream"] == "forecasting"
    assert units.headers["x-upstream"] == "echo"


async def test_proxied_requests_are_counted_by_area(client):
    await client.get("/api/v1/inventory/items")
    await client.get("/api/v1/nonsense")

    metrics = (await client.get("/metrics")).text
    assert 'route="/api/v1/inventory/*",status="200"' in metrics
    assert 'route="unmatched",status="404"' in metrics


async def test_upstream_transports_reach_an_in_process_service(upstream_url, upstream_app,
                                                                 gateway_settings):
    in_process = upstream_app("in-process")
    settings = gateway_settings(inventory_url="http://inventory.internal",
                                recipes_url=upstream_url)
    app = create_app(settings,
                     upstream_transports={"inventory": httpx.ASGITransport(app=in_process)})
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test",
        headers={"Authorization": f"Bearer {access_token(settings)}"},
    ) as client:
        posted = await client.post("/api/v1/inventory/items?x=1", json={"name": "lye"},
                                   headers={"X-Request-ID": "req-embedded"})
        over_network = await client.get("/api/v1/recipes")

    assert posted.status_code == 201
    assert posted.headers["x-upstream"] == "in-process"
    assert posted.headers.get_list("x-request-id") == ["req-embedded"]
    echoed = posted.json()
    assert (echoed["path"], echoed["query"]) == ("/api/v1/inventory/items", "x=1")
    assert json.loads(echoed["body"]) == {"name": "lye"}
    assert received_headers(posted)["x-request-id"] == ["req-embedded"]
    assert over_network.headers["x-upstream"] == "echo"


def proxy_app(upstream_url: str, authorize: Authorize) -> Starlette:
    """Just the proxy, with an `authorize` hook, in front of the echoing upstream."""
    settings = GatewaySettings(**{f"{name}_url": upstream_url
                                  for name in GatewaySettings().upstream_urls()})
    upstreams = Upstreams(settings)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await upstreams.open()
        try:
            yield
        finally:
            await upstreams.aclose()

    proxy = Proxy(upstreams, max_body_bytes=settings.max_body_bytes, authorize=authorize)
    return Starlette(routes=[Route("/{path:path}", proxy)], lifespan=lifespan)


class AuthenticatedAs:
    """Stands in for the identity middleware: puts a principal in the request's state."""

    def __init__(self, app: ASGIApp, principal: str) -> None:
        self.app = app
        self.principal = principal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["state"] = {**scope.get("state", {}), "principal": self.principal}
        await self.app(scope, receive, send)


CALLERS_CREDENTIALS = {"Authorization": "Bearer callers-own-token", "X-API-Key": "sb_live_abc"}


async def test_the_authorize_hook_replaces_the_callers_credentials(serve, upstream_url):
    app = proxy_app(upstream_url, lambda scope: b"Bearer gateway-signed")
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/api/v1/inventory/items", headers=CALLERS_CREDENTIALS)

    received = received_headers(response)
    assert received["authorization"] == ["Bearer gateway-signed"]
    assert "x-api-key" not in received


async def test_an_authorize_hook_that_answers_none_sends_no_credentials(serve, upstream_url):
    app = proxy_app(upstream_url, lambda scope: None)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/api/v1/batches/start", json={},
                                      headers=CALLERS_CREDENTIALS)

    received = received_headers(response)
    assert "authorization" not in received
    assert "x-api-key" not in received
    assert received["content-type"] == ["application/json"]


async def test_the_authorize_hook_sees_the_principal_in_the_request_state(serve, upstream_url):
    def authorize(scope: Scope) -> bytes:
        return f"Bearer for-{scope['state']['principal']}".encode()

    app = AuthenticatedAs(proxy_app(upstream_url, authorize), "user-42")
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/api/v1/recipes", headers=CALLERS_CREDENTIALS)

    assert received_headers(response)["authorization"] == ["Bearer for-user-42"]


