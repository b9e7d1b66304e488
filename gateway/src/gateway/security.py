"""What browsers are told, once for the whole fleet: which origins may call the API (CORS) and
the security headers on every gateway response. Services set neither.

Every response gets `X-Content-Type-Options`, `X-Frame-Options`, `Referrer-Policy`,
`Strict-Transport-Security` (ignored by browsers over plain http) and a Content-Security-Policy
that allows nothing: API answers are data, never pages. `/api/` answers also get
`Cache-Control: no-store` (tokens, tenants' data). A header the response already has, the
service's own `Cache-Control` say, is left alone.

`/docs` is the one page: Swagger UI loads its script and styles from jsDelivr and starts with
an inline script, which its CSP allows by hash, computed from the page as served.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.settings import GatewaySettings

Headers = list[tuple[bytes, bytes]]

API_PREFIX = "/api/"
DOCS_PATH = "/docs"
SWAGGER_UI_CDN = "https://cdn.jsdelivr.net"

CORS_ALLOW_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-API-Key",
                      "X-Request-ID")
# What a browser script may read of an answer beyond the CORS-safelisted headers.
CORS_EXPOSE_HEADERS = ("Content-Disposition", "ETag", "Location", "Retry-After",
                       "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                       "X-Request-ID")
CORS_MAX_AGE_SECONDS = 600

_EVERY_RESPONSE: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
)
_NOTHING_ALLOWED = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_NO_STORE = (b"cache-control", b"no-store")
_VARY_ORIGIN = (b"vary", b"Origin")

_PLAIN = (*_EVERY_RESPONSE, _NOTHING_ALLOWED)
_API = (*_PLAIN, _NO_STORE)
_NAMES = frozenset(name for name, _ in _API)

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>",
                            re.DOTALL | re.IGNORECASE)


def install_security(app: Starlette, settings: GatewaySettings) -> None:
    """Add CORS (when `settings.cors_origins` names any origin) and the security headers.

    Call it after every other `add_middleware`, so both wrap the rest: a 401, 429 or 500 that
    an inner middleware answers carries them too, and a preflight is answered before
    authentication or rate limits see it. Calling it again changes nothing.
    """
    if any(middleware.cls is SecurityHeadersMiddleware for middleware in app.user_middleware):
        return
    if settings.cors_origins:
        # Credentials travel in the Authorization header, not cookies: no allow_credentials.
        app.add_middleware(
            CORSForBrowsersMiddleware, allow_origins=settings.cors_origins,
            allow_methods=CORS_ALLOW_METHODS, allow_headers=CORS_ALLOW_HEADERS,
            expose_headers=CORS_EXPOSE_HEADERS, max_age=CORS_MAX_AGE_SECONDS,
        )
    app.add_middleware(SecurityHeadersMiddleware)  # added last: the outermost


class CORSForBrowsersMiddleware:
    """Starlette's `CORSMiddleware`, consulted only by requests that carry an `Origin`.

    Without one (servers, scripts, the benchmark) Starlette's middleware still parses the
    request's headers and rewrites the response's: 3.8 us a request, measured, where this
    scan and the `Vary: Origin` it adds as Starlette would (so a cache keeps the answers for
    browsers apart) cost 0.7 us.
    """

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, _ in scope["headers"]:
            if name == b"origin":
                await self.cors(scope, receive, send)
                return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A second Vary line is the same as a merged one (RFC 9110 section 5.3).
                message["headers"] = [*message.get("headers", ()), _VARY_ORIGIN]
            await send(message)

        await self.app(scope, receive, send_varying)


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == DOCS_PATH:
            await self._docs(scope, receive, send)
            return
        defaults = _API if path.startswith(API_PREFIX) else _PLAIN

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _add_missing(message.get("headers", ()), defaults)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The policy depends on the page, so the page is held until it is complete; it is a
        # few hundred bytes, asked for by people, not programs.
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_when_complete(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            policy = (b"content-security-policy", docs_policy(body))
            start["headers"] = _add_missing(start.get("headers", ()),
                                            (*_EVERY_RESPONSE, policy))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_when_complete)


def docs_policy(html: bytes) -> bytes:
    """The CSP for a Swagger UI page: its CDN's scripts and styles, its inline scripts by hash,
    and requests to the gateway itself (the document and "Try it out")."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        "default-src 'none'; "
        f"script-src {SWAGGER_UI_CDN}{hashes}; "
        # Swagger UI sets style attributes as it renders.
        f"style-src {SWAGGER_UI_CDN} 'unsafe-inline'; "
        "img-src 'self' data: https://fastapi.tiangolo.com; "
        "connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ).encode()


def _add_missing(headers: Sequence[tuple[bytes, bytes]],
                 defaults: tuple[tuple[bytes, bytes], ...]) -> Headers:
    # A new list: the one a response hands over may be its own, kept for the next send.
    present: set[bytes] | None = None
    for name, _ in headers:
        if name in _NAMES:
            if present is None:
                present = set()
            present.add(name)
    if present is None:
        return [*headers, *defaults]
    return [*headers, *(header for header in defaults if header[0] not in present)]
