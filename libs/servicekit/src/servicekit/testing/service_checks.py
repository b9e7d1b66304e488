"""What every service must do, whatever its domain: import these into a service's tests.

    from servicekit.testing.service_checks import *  # noqa: F403

They need the `app` and `client` fixtures (servicekit.testing.service.service_fixtures).
"""

import httpx
from fastapi import FastAPI

__all__ = [
    "test_a_request_without_a_token_is_refused_with_the_envelope",
    "test_an_unknown_path_is_a_404_envelope_echoing_the_request_id",
    "test_live_answers_pass",
    "test_metrics_count_http_requests",
    "test_ready_reports_database_broker_and_outbox_passing",
]


async def test_ready_reports_database_broker_and_outbox_passing(
    app: FastAPI, client: httpx.AsyncClient,
) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/health+json"
    body = response.json()
    assert body["status"] == "pass"
    assert body["serviceId"] == app.state.settings.service_name
    assert {name: check[0]["status"] for name, check in body["checks"].items()} == {
        "database": "pass", "broker": "pass", "outbox": "pass",
    }


async def test_live_answers_pass(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json()["status"] == "pass"


async def test_metrics_count_http_requests(client: httpx.AsyncClient) -> None:
    await client.get("/health/live")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert 'http_requests_total{method="GET",route="/health/live",status="200"} 1.0' in (
        response.text
    )


async def test_an_unknown_path_is_a_404_envelope_echoing_the_request_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/no-such-area/here", headers={"X-Request-ID": "req-404"})

    assert response.status_code == 404
    assert response.headers["x-request-id"] == "req-404"
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert body["request_id"] == "req-404"


async def test_a_request_without_a_token_is_refused_with_the_envelope(
    app: FastAPI, client: httpx.AsyncClient,
) -> None:
    response = await client.get(_a_guarded_path(app), headers={"X-Request-ID": "req-no-token"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["error"]["code"] == "AUTHENTICATION_REQUIRED"
    assert body["request_id"] == "req-no-token"


def _a_guarded_path(app: FastAPI) -> str:
    """A GET route of the service's API, or its admin route where it has none yet."""
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/api/") and "{" not in path and "GET" in getattr(route, "methods", ()):
            return path
    return "/admin/dead-letters"
