"""`GET /health`: the fleet's readiness in one `application/health+json` document for ops.

Every service's `/health/ready` is asked at once, each within `health_timeout_seconds`; the
fleet is as healthy as its least healthy service, and a service that does not answer fails.
The gateway's own `/health/live` and `/health/ready` come from servicekit's health router.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.proxy import Upstreams, failure_kind
from servicekit.context import current_request_id
from servicekit.health import Status, health_json, worst

_STATUSES: frozenset[str] = frozenset({"pass", "warn", "fail"})


async def check_service(upstreams: Upstreams, service: str,
                        budget_seconds: float) -> dict[str, Any]:
    """One service's readiness as a check entry: its status and its own checks."""
    started = time.perf_counter()
    entry: dict[str, Any] = {"componentId": service, "componentType": "service",
                             "circuitBreaker": upstreams.breakers[service].state}
    headers = {"X-Request-ID": request_id} if (request_id := current_request_id()) else {}
    try:
        # asyncio's deadline bounds in-process (ASGI) services too, which ignore httpx's.
        async with asyncio.timeout(budget_seconds):
            response = await upstreams.client(service).get(
                "/health/ready", headers=headers, timeout=budget_seconds
            )
    except (httpx.TransportError, TimeoutError) as exc:
        kind = failure_kind(exc)
        if kind == "timeout":
            output = f"no answer within {budget_seconds:g}s"
        else:
            output = f"{kind}: {type(exc).__name__}: {exc}"[:300]
        entry.update(status="fail", output=output)
    else:
        entry.update(_from_response(response))
    entry["time"] = f"{(time.perf_counter() - started) * 1000:.1f}ms"
    return entry


def _from_response(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("status") not in _STATUSES:
        return {"status": "fail", "observedValue": response.status_code,
                "output": f"HTTP {response.status_code} without a health document"}
    # A 503 is a failure whatever the body says; a 200 carries the service's own verdict.
    status: Status = body["status"] if response.is_success else "fail"
    result: dict[str, Any] = {"status": status}
    if not response.is_success:
        result["observedValue"] = response.status_code
    if isinstance(body.get("checks"), dict):
        result["checks"] = body["checks"]
    return result


async def fleet_health(upstreams: Upstreams, *, version: str,
                       budget_seconds: float) -> dict[str, Any]:
    services = list(upstreams.base_urls)
    entries = await asyncio.gather(
        *(check_service(upstreams, service, budget_seconds) for service in services)
    )
    return {
        "status": worst([entry["status"] for entry in entries]),
        "serviceId": "gateway",
        "version": version,
        "description": "Smallbatch fleet readiness",
        "checks": {service: [entry] for service, entry in zip(services, entries, strict=True)},
    }


def fleet_health_router() -> APIRouter:
    router = APIRouter(tags=["health"], include_in_schema=False)

    @router.get("/health")
    async def health(request: Request) -> JSONResponse:
        state = request.app.state
        return health_json(await fleet_health(
            state.upstreams, version=state.health.version,
            budget_seconds=state.settings.health_timeout_seconds,
        ))

    return router
