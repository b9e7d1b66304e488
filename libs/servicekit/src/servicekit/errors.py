"""Domain errors and the one place where every error becomes the fleet's error envelope.

Raise meaningful errors anywhere below the routes (`class LotNotFound(NotFound)`); the handlers
that `install_error_handlers` adds turn them into

    {"success": false, "error": {"code", "message", "details"}, "timestamp", "request_id"}

with the HTTP status their class declares.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicekit.context import current_request_id

logger = logging.getLogger("servicekit.errors")


class DomainError(Exception):
    """Base of every error that reaches a client. Subclasses set `status_code` and `code`."""

    status_code: int = 400
    code: str = "BAD_REQUEST"
    default_message: str = "The request could not be processed"

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)


class ValidationFailed(DomainError):
    status_code = 422
    code = "VALIDATION_ERROR"
    default_message = "Request validation failed"


class AuthenticationRequired(DomainError):
    status_code = 401
    code = "AUTHENTICATION_REQUIRED"
    default_message = "Valid authentication required"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class InsufficientPermissions(DomainError):
    status_code = 403
    code = "INSUFFICIENT_PERMISSIONS"
    default_message = "You lack the permissions this action needs"


class NotFound(DomainError):
    status_code = 404
    code = "RESOURCE_NOT_FOUND"
    default_message = "Requested resource not found"


class Conflict(DomainError):
    status_code = 409
    code = "RESOURCE_CONFLICT"
    default_message = "The request conflicts with the resource's current state"


class RateLimitExceeded(DomainError):
    status_code = 429
    code = "RATE_LIMIT_EXCEEDED"
    default_message = "API rate limit exceeded"


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "Service temporarily unavailable"


_STATUS_CODES = {
    400: "VALIDATION_ERROR",
    401: "AUTHENTICATION_REQUIRED",
    403: "INSUFFICIENT_PERMISSIONS",
    404: "RESOURCE_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "RESOURCE_CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMIT_EXCEEDED",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None,
               request_id: str | None = None) -> dict[str, Any]:
    return {
        "success": False,
        "error": {"code": code, "message": message, "details": details or {}},
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "request_id": request_id or current_request_id(),
    }


def error_response(status_code: int, code: str, message: str,
                   details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status_code,
                        headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    # ("body", "adjustments", 0, "quantity") -> "adjustments.0.quantity"; keep "query."/"path."
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_details(errors: list[dict[str, Any]]) -> dict[str, Any]:
    fields: dict[str, list[str]] = defaultdict(list)
    for err in errors:
        # A JSON syntax error's location ends in a character offset, not a field.
        path = "body" if err.get("type") == "json_invalid" else _field_path(
            tuple(err.get("loc", ())))
        fields[path].append(err.get("msg", "is invalid"))
    return {"fields": dict(fields)}


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "VALIDATION_ERROR", "Request validation failed",
                          validation_details(list(exc.errors())))


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
    return error_response(exc.status_code, code, message, headers=exc.headers)


# SQLSTATE classes of a database that cannot serve now: connection exceptions (08), too many
# connections or out of resources (53), shutting down or starting up (57P).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database could not serve the request (it refused a connection,
    the pool had none to spare in time, the connection broke) rather than a fault of ours.
    Such a request did nothing lasting, and the same one a moment later may well succeed."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    cause = exc.orig
    while cause is not None:
        state = getattr(cause, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        cause = cause.__cause__
    return False


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not database_unavailable(exc):
        return await _unexpected_error(request, exc)
    logger.warning("database unavailable: %s: %s", type(exc).__name__,
                   str(exc).splitlines()[0][:300])
    return error_response(503, "SERVICE_UNAVAILABLE",
                          "The database is busy or unreachable; try again shortly",
                          headers={"Retry-After": "1"})


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return error_response(500, "INTERNAL_SERVER_ERROR", "An unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    """Route every error an app can raise into the fleet's error envelope."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sa_exc.DBAPIError, _database_error)
    app.add_exception_handler(sa_exc.TimeoutError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
