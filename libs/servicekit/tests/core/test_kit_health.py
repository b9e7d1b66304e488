"""Health: checks combine worst-first, and readiness answers in application/health+json."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from servicekit.health import (
    HEALTH_JSON,
    Check,
    CheckResult,
    HealthChecks,
    Status,
    health_router,
)


def returning(status: Status, output: str | None = None) -> Check:
    async def check() -> CheckResult:
        return CheckResult(status, output=output)

    return check


def checks_of(*statuses: Status) -> HealthChecks:
    checks = HealthChecks("kit", "1.2.3")
    for number, status in enumerate(statuses):
        checks.add(f"check{number}", returning(status))
    return checks


async def test_all_passing_checks_pass() -> None:
    report = await checks_of("pass", "pass").run()

    assert report["status"] == "pass"


async def test_a_warning_check_among_passing_ones_makes_the_whole_warn() -> None:
    report = await checks_of("pass", "warn", "pass").run()

    assert report["status"] == "warn"


async def test_a_failing_check_outweighs_warnings() -> None:
    report = await checks_of("warn", "fail", "pass").run()

    assert report["status"] == "fail"


async def test_a_report_names_the_service_and_each_check() -> None:
    checks = HealthChecks("kit", "1.2.3")
    checks.add("broker", returning("warn", "broker connection is down"))

    report = await checks.run()

    assert (report["serviceId"], report["version"]) == ("kit", "1.2.3")
    [entry] = report["checks"]["broker"]
    assert entry["componentId"] == "broker"
    assert entry["status"] == "warn"
    assert entry["output"] == "broker connection is down"
    assert entry["time"].endswith("ms")


async def test_a_check_that_raises_fails_with_the_error_as_its_output() -> None:
    async def database() -> CheckResult:
        raise ConnectionRefusedError("connection refused on 5432")

    checks = HealthChecks("kit", "1.2.3")
    checks.add("database", database)
    checks.add("broker", returning("pass"))

    report = await checks.run()

    assert report["status"] == "fail"
    [entry] = report["checks"]["database"]
    assert entry["status"] == "fail"
    assert entry["output"] == "ConnectionRefusedError: connection refused on 5432"


def client_for(checks: HealthChecks) -> httpx.AsyncClient:
    app = FastAPI()
    app.state.health = checks
    app.include_router(health_router())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kit.test")


async def test_readiness_answers_503_in_health_json_when_a_check_fails() -> None:
    async with client_for(checks_of("pass", "fail")) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.headers["content-type"] == HEALTH_JSON
    assert response.json()["status"] == "fail"


async def test_readiness_answers_200_when_a_check_only_warns() -> None:
    async with client_for(checks_of("pass", "warn")) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.headers["content-type"] == HEALTH_JSON
    assert response.json()["status"] == "warn"


async def test_liveness_answers_200_even_while_a_readiness_check_fails() -> None:
    async with client_for(checks_of("fail")) as client:
        response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "pass", "serviceId": "kit", "version": "1.2.3"}
