import httpx


async def test_ready_reports_database_broker_and_outbox_passing(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/health+json"
    body = response.json()
    assert body["status"] == "pass"
    assert body["serviceId"] == "forecasting"
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
    response = await client.get(
        "/api/v1/forecasts", headers={"X-Request-ID": "req-forecasting-1"}
    )

    assert response.status_code == 404
    assert response.headers["x-request-id"] == "req-forecasting-1"
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert body["request_id"] == "req-forecasting-1"
