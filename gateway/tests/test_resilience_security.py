"""CORS and security headers, installed once at the gateway, on its own and proxied answers."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.security import install_security

APP = "https://app.example"
EVERY_RESPONSE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
}
NOTHING_ALLOWED = "default-src 'none'; frame-ancestors 'none'"


def secured(app: FastAPI) -> None:
    install_security(app, app.state.settings)


def assert_security_headers(response, *, csp: str | None = NOTHING_ALLOWED) -> None:
    for name, value in EVERY_RESPONSE.items():
        assert response.headers.get_list(name) == [value], name
    if csp is not None:
        assert response.headers.get_list("content-security-policy") == [csp]


def service_setting(**headers: str) -> Starlette:
    """A service that answers every path with the headers given."""

    async def answer(_: Request) -> Response:
        return Response(b"{}", media_type="application/json", headers=headers)

    return Starlette(routes=[Route("/{path:path}", answer)])


# Security headers


async def test_a_proxied_answer_gets_the_security_headers_and_no_store(gateway, serve):
    async with serve(service_setting()) as url, \
            gateway(inventory_url=url, configure=secured) as client:
        response = await client.get("/api/v1/inventory/items")

    assert response.status_code == 200
    assert_security_headers(response)
    assert response.headers.get_list("cache-control") == ["no-store"]


async def test_headers_a_service_sets_itself_are_kept_and_not_doubled(gateway, serve):
    service = service_setting(**{"Cache-Control": "private, max-age=60",
                                 "X-Frame-Options": "SAMEORIGIN"})
    async with serve(service) as url, gateway(inventory_url=url, configure=secured) as client:
        response = await client.get("/api/v1/units")

    assert response.headers.get_list("cache-control") == ["private, max-age=60"]
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == NOTHING_ALLOWED


async def test_the_gateways_own_answers_get_the_security_headers(gateway):
    async with gateway(configure=secured) as client:
        live = await client.get("/health/live")
        not_found = await client.get("/api/v1/nonsense")

    assert_security_headers(live)
    assert not_found.status_code == 404
    assert_security_headers(not_found)
    assert not_found.headers["cache-control"] == "no-store"


async def test_an_open_circuits_503_gets_the_security_headers(gateway, dead_url):
    async with gateway(inventory_url=dead_url, breaker_failure_threshold=1,
                       configure=secured) as client:
        await client.post("/api/v1/inventory/items")
        refused = await client.post("/api/v1/inventory/items")

    assert refused.json()["error"]["details"]["circuit"] == "open"
    assert_security_headers(refused)


async def test_the_docs_page_may_load_swagger_ui_from_its_cdn_and_run_its_own_script(gateway):
    async with gateway(configure=secured) as client:
        response = await client.get("/docs")

    assert response.status_code == 200
    assert_security_headers(response, csp=None)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    [inline] = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert policy["script-src"] == f"https://cdn.jsdelivr.net 'sha256-{digest}'"
    assert policy["style-src"].startswith("https://cdn.jsdelivr.net")
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert 'src="https://cdn.jsdelivr.net/' in response.text


async def test_installing_twice_changes_nothing(gateway):
    async with gateway(configure=lambda app: (secured(app), secured(app))) as client:
        response = await client.get("/health/live")

    assert_security_headers(response)


# CORS


async def test_a_preflight_from_an_allowed_origin_is_answered_with_the_cors_headers(gateway):
    async with gateway(cors_origins=[APP], configure=secured) as client:
        response = await client.options("/api/v1/inventory/items", headers={
            "Origin": APP, "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type, x-request-id",
        })

    assert response.status_code == 200
    assert response.text == "OK"  # answered at the gateway, not by the service
    assert response.headers["access-control-allow-origin"] == APP
    assert "PATCH" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-request-id"} <= set(allowed.split(", "))
    assert "access-control-allow-credentials" not in response.headers
    assert_security_headers(response)


async def test_a_preflight_from_another_origin_gets_no_cors_headers(gateway):
    async with gateway(cors_origins=[APP], configure=secured) as client:
        response = await client.options("/api/v1/inventory/items", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE",
        })

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_an_allowed_origin_may_read_the_answer_and_its_request_id(gateway):
    async with gateway(cors_origins=[APP], configure=secured) as client:
        response = await client.get("/api/v1/inventory/items", headers={"Origin": APP})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP
    exposed = response.headers["access-control-expose-headers"].lower().split(", ")
    assert {"x-request-id", "retry-after", "x-ratelimit-remaining"} <= set(exposed)
    assert "origin" in response.headers["vary"].lower()


@pytest.mark.parametrize("origin", ["https://evil.example", None])
async def test_other_origins_and_non_browser_callers_get_no_cors_headers(gateway, origin):
    headers = {"Origin": origin} if origin else {}
    async with gateway(cors_origins=[APP], configure=secured) as client:
        response = await client.get("/api/v1/inventory/items", headers=headers)

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "Origin" in [v.strip() for v in ",".join(response.headers.get_list("vary")).split(",")]


async def test_without_configured_origins_a_preflight_is_the_services_business(gateway):
    async with gateway(configure=secured) as client:
        response = await client.options("/api/v1/inventory/items", headers={
            "Origin": APP, "Access-Control-Request-Method": "GET",
        })

    assert response.json()["method"] == "OPTIONS"  # the echoing service answered
    assert "access-control-allow-origin" not in response.headers
