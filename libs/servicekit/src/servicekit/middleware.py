"""The request-context middleware: request id in and out, a log line and metrics per request."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.context import request_id_var
from servicekit.errors import error_response
from servicekit.metrics import ServiceMetrics

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")
_UNLOGGED_PATHS = {"/health/live", "/health/ready", "/metrics"}

logger = structlog.get_logger("servicekit.access")


def incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _VALID_REQUEST_ID.match(value):
            return value.decode()
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Keeps the caller's `X-Request-ID` (or makes one), returns it, logs and measures."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope)
        token = request_id_var.set(request_id)
        log_context = structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        started_response = False
        header = (REQUEST_ID_HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Answer here rather than in Starlette's outermost error middleware, so the 500
            # carries the request id too.
            if started_response:
                raise
            logger.exception("unhandled error", method=scope["method"], path=scope["path"])
            response = error_response(500, "INTERNAL_SERVER_ERROR",
                                      "An unexpected error occurred")
            await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            if self.metrics is not None:
                self.metrics.http_requests.labels(scope["method"], route, str(status)).inc()
                self.metrics.http_latency.labels(scope["method"], route).observe(elapsed)
            if scope["path"] not in _UNLOGGED_PATHS:
                logger.info("request", method=scope["method"], path=scope["path"],
                            status=status, duration_ms=round(elapsed * 1000, 2))
            structlog.contextvars.reset_contextvars(**log_context)
            request_id_var.reset(token)
