import httpx

from gateway.app import create_app

SERVICES = ("inventory", "recipes", "batches", "forecasting", "integrations")


async def test_fleet_health_fails_with_503_when_a_service_is_unreachable(gateway, dead_url):
    async with gateway(recipes_url=dead_url) as client:
        response = await client.get("/health")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/health+json"
    body = response.json()
    assert body["status"] == "fail"
    assert set(body["checks"]) == set(SERVICES)
    [recipes] = body["checks"]["recipes"]
    assert recipes["status"] == "fail"
    assert recipes["output"].startswith("unreachable")
    [inventory] = body["checks"]["inventory"]
    assert inventory["status"] == "pass"
    assert inventory["checks"]["database"][0]["status"] == "pass"


async def test_fleet_health_passes_when_every_service_is_ready(client):
    response = await client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "pass"
    assert body["serviceId"] == "gateway"
    for service in SERVICES:
        [check] = body["checks"][service]
        assert check["componentId"] == service
        assert check["status"] == "pass"
        assert check["checks"] == {"database": [{"componentId": "database", "status": "pass"}]}


async def test_a_warning_service_makes_the_fleet_warn_but_ready(gateway, serve, upstream_app):
    async with serve(upstream_app("batches", health="warn")) as url, \
            gateway(batches_url=url) as client:
        response = await client.get("/health")

    assert response.status_code == 200
    assert response.json()["status"] == "warn"
    assert response.json()["checks"]["batches"][0]["status"] == "warn"


async def test_a_failing_service_fails_the_fleet_with_its_own_checks(gateway, serve,
                                                                    upstream_app):
    async with serve(upstream_app("integrations", health="fail")) as url, \
            gateway(integrations_url=url) as client:
        response = await client.get("/health")

    assert response.status_code == 503
    [check] = response.json()["checks"]["integrations"]
    assert check["status"] == "fail"
    assert check["checks"]["database"][0]["status"] == "fail"


async def test_a_service_slower_than_the_health_budget_fails(gateway, serve, upstream_app):
    async with serve(upstream_app("forecasting", health_delay=2)) as url, \
            gateway(forecasting_url=url, health_timeout_seconds=0.2) as client:
        response = await client.get("/health")

    assert response.status_code == 503
    [check] = response.json()["checks"]["forecasting"]
    assert check["status"] == "fail"
    assert check["output"] == "no answer within 0.2s"


async def test_the_gateway_is_live_whatever_the_fleet_says(gateway, dead_url):
    async with gateway(**{f"{service}_url": dead_url for service in SERVICES}) as client:
        live = await client.get("/health/live")
        fleet = await client.get("/health")

    assert live.status_code == 200
    assert live.json()["status"] == "pass"
    assert live.json()["serviceId"] == "gateway"
    assert fleet.status_code == 503


async def test_fleet_health_reaches_in_process_services(upstream_app, gateway_settings):
    transports = {service: httpx.ASGITransport(app=upstream_app(service)) for service in SERVICES}
    app = create_app(gateway_settings(), upstream_transports=transports)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        response = await client.get("/health")

    assert response.status_code == 200
    assert {s: c[0]["status"] for s, c in response.json()["checks"].items()} == dict.fromkeys(
        SERVICES, "pass"
    )
