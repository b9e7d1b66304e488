"""`/health/live` and `/health/ready` in `application/health+json`.

Readiness has a check per dependency: the database answers, the broker is connected, and the
outbox backlog's oldest row is not too old (warn, then fail, past the configured ages).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

Status = Literal["pass", "warn", "fail"]
HEALTH_JSON = "application/health+json"
_RANK = {"pass": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True, slots=True)
class CheckResult:
    status: Status
    observed_value: Any = None
    observed_unit: str | None = None
    output: str | None = None


Check = Callable[[], Awaitable[CheckResult]]


def worst(statuses: list[Status]) -> Status:
    return max(statuses, key=_RANK.__getitem__, default="pass")


class HealthChecks:
    def __init__(self, service: str, version: str) -> None:
        self.service = service
        self.version = version
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self._checks[name] = check

    async def run(self) -> dict[str, Any]:
        checks: dict[str, list[dict[str, Any]]] = {}
        statuses: list[Status] = []
        for name, check in self._checks.items():
            started = time.perf_counter()
            try:
                result = await check()
            except Exception as exc:
                result = CheckResult("fail", output=f"{type(exc).__name__}: {exc}"[:300])
            entry: dict[str, Any] = {
                "componentId": name,
                "status": result.status,
                "time": f"{(time.perf_counter() - started) * 1000:.1f}ms",
            }
            if result.observed_value is not None:
                entry["observedValue"] = result.observed_value
            if result.observed_unit:
                entry["observedUnit"] = result.observed_unit
            if result.output:
                entry["output"] = result.output
            checks[name] = [entry]
            statuses.append(result.status)
        return {
            "status": worst(statuses),
            "serviceId": self.service,
            "version": self.version,
            "checks": checks,
        }


def health_json(body: dict[str, Any]) -> JSONResponse:
    status_code = 503 if body["status"] == "fail" else 200
    return JSONResponse(body, status_code=status_code, media_type=HEALTH_JSON,
                        headers={"Cache-Control": "no-store"})


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"], include_in_schema=False)

    @router.get("/health/live")
    async def live(request: Request) -> JSONResponse:
        checks: HealthChecks = request.app.state.health
        return health_json({"status": "pass", "serviceId": checks.service,
                            "version": checks.version})

    @router.get("/health/ready")
    async def ready(request: Request) -> JSONResponse:
        return health_json(await request.app.state.health.run())

    return router
