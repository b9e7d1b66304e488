"""The proxy hot path: a plain ASGI endpoint that forwards a public path to the owning service.

No FastAPI route and no pydantic per request: headers are filtered as the byte pairs ASGI
hands over, the body is read into memory (bounded by `max_body_bytes`, so a 413 is decided
before anything reaches a service) and the service's response streams back.

A service that cannot be used becomes the fleet's error envelope:

- nothing reached it (connection refused, connect timeout, pool exhausted): 503
  `SERVICE_UNAVAILABLE` with `Retry-After: 5`, safe to retry — and the gateway already did for
  idempotent methods, `idempotent_retries` times after a short jittered pause;
- it took the request and did not answer in time (its read timeout, per service): 504
  `UPSTREAM_TIMEOUT`;
- it dropped the connection or answered something that is not HTTP: 502 `BAD_GATEWAY`, with
  no `Retry-After`, because the request may have taken effect. Neither of these is retried.

Each service has a circuit breaker (see resilience.py). Those failures and a 502/503/504 from
the service count against it; while it is open, calls are refused with 503 and a
`Retry-After` of the seconds until the trial call, without touching the network.

The caller's credentials stop here once an `authorize` hook is given: it names the
Authorization header the service gets instead (a token the gateway signs).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable, Mapping
from http.cookiejar import CookieJar
from typing import Any, Literal, NamedTuple

import aiohttp
import httpx
import structlog
from httpx_aiohttp import AiohttpTransport
from starlette.types import Receive, Scope, Send

from gateway.resilience import CircuitBreaker
from gateway.routing import resolve
from gateway.settings import GatewaySettings
from servicekit.context import request_id_var
from servicekit.errors import DomainError, NotFound, ServiceUnavailable
from servicekit.middleware import incoming_request_id

logger = structlog.get_logger("gateway.proxy")

RETRY_AFTER_SECONDS = 5
# The pause before an idempotent request is sent again to a service it did not reach: long
# enough for a restarting service to bind its port, jittered so callers do not come back in step.
RETRY_PAUSE_SECONDS = (0.05, 0.15)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Answers that say the service (or a proxy in front of it) is not coping: they count against
# its circuit breaker like a failure to reach it.
FAILURE_STATUSES = frozenset({502, 503, 504})

Headers = list[tuple[bytes, bytes]]
# Scope -> the Authorization header value to send upstream, or None to send none.
Authorize = Callable[[Scope], bytes | None]

# Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message; `proxy-*`
# are for a proxy's own use. Neither goes further, in either direction. `trailer` too, as Go's
# reverse proxy does: the gateway re-frames the body and sends no trailers.
_HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"te", b"trailer", b"trailers", b"transfer-encoding",
    b"upgrade",
})
# What the gateway sets itself on the way in: the upstream's Host (httpx adds it from the
# URL), the length of the body it sends, the request id and the X-Forwarded-* trio.
_SET_ON_REQUEST = _HOP_BY_HOP | {
    b"host", b"content-length", b"x-request-id", b"x-forwarded-for", b"x-forwarded-proto",
    b"x-forwarded-host",
}
# With an `authorize` hook the caller's own credentials never reach a service.
_SET_ON_AUTHORIZED_REQUEST = _SET_ON_REQUEST | {b"authorization", b"x-api-key"}
# uvicorn adds its own Date and Server (as nginx hides the upstream's), and the request
# context middleware adds X-Request-ID; the upstream's copies would be duplicates.
_SET_ON_RESPONSE = _HOP_BY_HOP | {b"date", b"server", b"x-request-id"}

# aiohttp would add these when absent; a proxy sends what the caller sent. (An added
# `Accept-Encoding: gzip` would have the service compress for a caller who never asked.)
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "Request body is too large"


class UpstreamTimeout(DomainError):
    status_code = 504
    code = "UPSTREAM_TIMEOUT"
    default_message = "The service did not answer in time"


class BadGateway(DomainError):
    status_code = 502
    code = "BAD_GATEWAY"
    default_message = "The service broke off the exchange"


class _ClientDisconnected(Exception):
    pass


class _RouteLabel(NamedTuple):
    # servicekit's middleware labels metrics with `scope["route"].path`; the proxy names the
    # area prefix rather than the catch-all route.
    path: str


class _NoCookies(CookieJar):
    """A shared client must never keep one caller's cookies and send them with the next."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def add_cookie_header(self, request: Any) -> None:
        return None


class Upstreams:
    """One pooled `httpx.AsyncClient` and one circuit breaker per service; the clients are
    opened and closed by the app's lifespan.

    Each client runs over httpx-aiohttp's transport unless `transports` names another one
    for that service (embedded mode and tests pass `httpx.ASGITransport`s). The proxy sends
    through a client's transport directly (see `send`); health checks use the client.
    """

    def __init__(self, settings: GatewaySettings,
                 transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> None:
        self.base_urls = {name: url.rstrip("/") for name, url in settings.upstream_urls().items()}
        unknown = set(transports or ()) - self.base_urls.keys()
        if unknown:
            raise ValueError(f"no such upstream: {', '.join(sorted(unknown))}")
        unknown = set(settings.per_upstream_timeout_seconds) - self.base_urls.keys()
        if unknown:  # a misspelt name would silently leave the default in place
            raise ValueError(f"per_upstream_timeout_seconds names no such upstream: "
                             f"{', '.join(sorted(unknown))}")
        self.settings = settings
        self.timeouts = {
            name: httpx.Timeout(settings.read_timeout(name),
                                connect=settings.connect_timeout_seconds)
            for name in self.base_urls
        }
        # Built once: `send` hands the same dict to every request for that service.
        self._timeout_extensions = {name: t.as_dict() for name, t in self.timeouts.items()}
        self.breakers = {
            name: CircuitBreaker(failure_threshold=settings.breaker_failure_threshold,
                                 reset_seconds=settings.breaker_reset_seconds)
            for name in self.base_urls
        }
        self._given = dict(transports or {})
        self._transports: dict[str, httpx.AsyncBaseTransport] = {}
        self._clients: dict[str, httpx.AsyncClient] = {}

    async def open(self) -> None:
        for name, base_url in self.base_urls.items():
            transport = self._given.get(name) or self._aiohttp_transport()
            self._transports[name] = transport
            self._clients[name] = httpx.AsyncClient(
                transport=transport, base_url=base_url, timeout=self.timeouts[name],
                # No proxies from the environment: they would swap in httpx's own transport.
                trust_env=False, cookies=_NoCookies(),
            )

    async def aclose(self) -> None:
        clients, self._clients, self._transports = self._clients, {}, {}
        for client in clients.values():
            await client.aclose()

    def client(self, service: str) -> httpx.AsyncClient:
        try:
            return self._clients[service]
        except KeyError:
            raise RuntimeError(f"upstream {service!r} is not open; run the lifespan") from None

    async def send(self, service: str, request: httpx.Request) -> httpx.Response:
        """Send `request` as it is and return the response unread, with the upstream timeouts.

        Straight to the client's transport: `AsyncClient.send` adds auth and redirect flows,
        cookie handling and a log record per request, none of which a proxy wants, and cost
        about a fifth of the gateway's CPU per proxied request (330 -> 257 us, measured).
        """
        try:
            transport = self._transports[service]
        except KeyError:
            raise RuntimeError(f"upstream {service!r} is not open; run the lifespan") from None
        request.extensions["timeout"] = self._timeout_extensions[service]
        return await transport.handle_async_request(request)

    def _aiohttp_transport(self) -> AiohttpTransport:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=self.settings.upstream_max_connections,
                keepalive_timeout=self.settings.upstream_keepalive_seconds,
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=_NO_AUTO_HEADERS,
        )
        return AiohttpTransport(client=session)


class Proxy:
    """The ASGI endpoint behind the gateway's catch-all route.

    `authorize(scope)`, when given, decides what a service learns of the caller: the
    Authorization header value to send (a token the gateway signs), or None to send none.
    Either way the caller's own Authorization and X-API-Key headers are not forwarded.
    """

    def __init__(self, upstreams: Upstreams, *, max_body_bytes: int,
                 authorize: Authorize | None = None) -> None:
        self.upstreams = upstreams
        self.max_body_bytes = max_body_bytes
        self.authorize = authorize
        self._drop = _SET_ON_REQUEST if authorize is None else _SET_ON_AUTHORIZED_REQUEST
        self._retries = upstreams.settings.idempotent_retries
        self._route_labels: dict[str, _RouteLabel] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = resolve(scope["path"])
        if target is None:
            raise NotFound(f"No service answers {scope['path']}")
        service = target.service
        label = self._route_labels.get(target.route)
        if label is None:
            label = self._route_labels.setdefault(target.route, _RouteLabel(target.route))
        scope["route"] = label

        headers, content_length, chunked = _request_headers(scope, self._drop)
        if self.authorize is not None:
            authorization = self.authorize(scope)
            if authorization is not None:
                headers.append((b"authorization", authorization))
        try:
            body = await self._read_body(receive, content_length, chunked)
        except _ClientDisconnected:
            return

        query = scope.get("query_string", b"")
        url = self.upstreams.base_urls[service] + _raw_path(scope)
        if query:
            url += "?" + query.decode("latin-1")
        request = httpx.Request(scope["method"], url, headers=headers, content=body)

        breaker = self.upstreams.breakers[service]
        if not breaker.allow():
            raise _circuit_open(service, breaker.retry_after())
        try:
            try:
                response = await self.upstreams.send(service, request)
            except (httpx.TransportError, TimeoutError) as exc:
                # The rare path, kept out of line: it may send again, or re-raises.
                response = await self._retry(service, request, exc)
        except (httpx.TransportError, TimeoutError) as exc:
            _record_failure(breaker, service)
            raise _upstream_failure(service, exc) from exc
        except BaseException:
            breaker.release()  # cancelled: no verdict on the service
            raise
        if response.status_code in FAILURE_STATUSES:
            _record_failure(breaker, service)
        elif breaker.record_success():
            logger.info("circuit closed", service=service)

        try:
            await send({
                "type": "http.response.start",
                "status": response.status_code,
                "headers": _response_headers(response.headers.raw),
            })
            if response.is_stream_consumed:
                # Some transports (httpx.MockTransport) hand back a response already read.
                await send({"type": "http.response.body", "body": response.content})
                return
            # Hold one chunk back so the last goes out with `more_body: False`: a small
            # response is a single body message.
            pending = b""
            async for chunk in response.aiter_raw():
                if pending:
                    await send({"type": "http.response.body", "body": pending, "more_body": True})
                pending = chunk
            await send({"type": "http.response.body", "body": pending})
        except httpx.TransportError as exc:
            # Too late for an error response. Returning with the response unfinished makes
            # the server drop the connection, so the caller cannot take the part for the whole.
            logger.warning("upstream broke off its response", service=service,
                           error=f"{type(exc).__name__}: {exc}")
            _record_failure(breaker, service)
        finally:
            await response.aclose()

    async def _retry(self, service: str, request: httpx.Request,
                     exc: httpx.TransportError | TimeoutError) -> httpx.Response:
        """Send `request` again after `exc`, if that is safe: an idempotent method, and the
        service never got the request. Raises the last failure when it gives up.

        Not tenacity: wrapping the send in `AsyncRetrying` costs about 13 us on every call,
        the many that need no retry too (measured here; a proxied request is ~250 us), and
        this policy is one condition and a pause.
        """
        if request.method not in IDEMPOTENT_METHODS:
            raise exc
        for attempt in range(1, self._retries + 1):
            if failure_kind(exc) != "unreachable":
                raise exc
            logger.info("upstream unreachable, sending again", service=service,
                        attempt=attempt + 1, error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(random.uniform(*RETRY_PAUSE_SECONDS))
            try:
                return await self.upstreams.send(service, request)
            except (httpx.TransportError, TimeoutError) as again:
                exc = again
        raise exc

    async def _read_body(self, receive: Receive, content_length: bytes | None,
                         chunked: bool) -> bytes | None:
        if content_length is None and not chunked:
            return None  # HTTP/1.1: no length and no chunking means no body
        if content_length is not None and content_length.isdigit():
            if int(content_length) > self.max_body_bytes:
                raise _too_large(self.max_body_bytes)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientDisconnected
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _too_large(self.max_body_bytes)
            if not message.get("more_body", False):
                if not chunks:
                    return chunk
                chunks.append(chunk)
                return b"".join(chunks)
            chunks.append(chunk)


def _request_headers(scope: Scope,
                     drop: frozenset[bytes]) -> tuple[Headers, bytes | None, bool]:
    """The headers to send upstream (none named in `drop`, which the gateway sets itself),
    and the caller's Content-Length and chunking."""
    headers: Headers = []
    content_length: bytes | None = None
    chunked = False
    forwarded_for: list[bytes] = []
    host: bytes | None = None
    listed: frozenset[bytes] = frozenset()
    for name, value in scope["headers"]:
        if name in drop or name.startswith(b"proxy-"):
            if name == b"content-length":
                content_length = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"x-forwarded-for":
                forwarded_for.append(value)
            elif name == b"host":
                host = value
            elif name == b"connection":
                listed = listed | _tokens(value)
            continue
        headers.append((name, value))
    if listed:
        headers = [(name, value) for name, value in headers if name not in listed]

    request_id = request_id_var.get() or incoming_request_id(scope)
    headers.append((b"x-request-id", request_id.encode()))
    # The last entry is always the caller as the gateway sees it. uvicorn, behind a proxy it
    # trusts, already took the caller from this header: then it is the last entry already.
    client = scope.get("client")
    if client:
        caller = client[0].encode()
        if not forwarded_for or forwarded_for[-1].rpartition(b",")[2].strip() != caller:
            forwarded_for.append(caller)
    if forwarded_for:
        headers.append((b"x-forwarded-for", b", ".join(forwarded_for)))
    headers.append((b"x-forwarded-proto", scope.get("scheme", "http").encode()))
    if host is not None:
        headers.append((b"x-forwarded-host", host))
    return headers, content_length, chunked


def _response_headers(raw: Iterable[tuple[bytes, bytes]]) -> Headers:
    headers: Headers = []
    listed: frozenset[bytes] = frozenset()
    for name, value in raw:
        name = name.lower()
        if name in _SET_ON_RESPONSE or name.startswith(b"proxy-"):
            if name == b"connection":
                listed = listed | _tokens(value)
            continue
        headers.append((name, value))
    if listed:
        headers = [(name, value) for name, value in headers if name not in listed]
    return headers


def _tokens(connection: bytes) -> frozenset[bytes]:
    """Header names a `Connection` header lists: they are hop-by-hop too."""
    return frozenset(t.strip().lower() for t in connection.split(b",") if t.strip())


def _raw_path(scope: Scope) -> str:
    # The path as the caller encoded it (`%2F` stays encoded); ASGI servers give raw_path.
    raw = scope.get("raw_path")
    if raw:
        return raw.decode("latin-1")
    return httpx.URL(path=scope["path"]).raw_path.decode("ascii")


def _too_large(limit: int) -> PayloadTooLarge:
    # The rest of the body stays unread; closing the connection spares reading it to the end.
    return PayloadTooLarge(f"Request body exceeds {limit} bytes", details={"max_bytes": limit},
                           headers={"Connection": "close"})


def _record_failure(breaker: CircuitBreaker, service: str) -> None:
    if breaker.record_failure():
        logger.warning("circuit opened", service=service,
                       refusing_for_seconds=breaker.reset_seconds)


def _circuit_open(service: str, retry_after: int) -> ServiceUnavailable:
    return ServiceUnavailable(f"The {service} service is unavailable",
                              details={"service": service, "circuit": "open"},
                              headers={"Retry-After": str(retry_after)})


def _upstream_failure(service: str, exc: Exception) -> DomainError:
    kind = failure_kind(exc)
    logger.warning("upstream failed", service=service, failure=kind,
                   error=f"{type(exc).__name__}: {exc}")
    details = {"service": service}
    if kind == "unreachable":
        return ServiceUnavailable(f"The {service} service is unavailable", details=details,
                                  headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if kind == "timeout":
        return UpstreamTimeout(f"The {service} service did not answer in time", details=details)
    return BadGateway(f"The {service} service broke off the exchange", details=details)


def failure_kind(exc: Exception) -> Literal["unreachable", "timeout", "broken"]:
    """unreachable (nothing was sent), timeout (sent, no answer in time) or broken.

    httpx-aiohttp maps every `aiohttp.ClientConnectionError`, a refused connection and a
    dropped one alike, to `httpx.ConnectTimeout`, so the aiohttp cause decides when present.
    """
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientError):
        if isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
            return "unreachable"
        if isinstance(cause, aiohttp.ServerTimeoutError):
            return "timeout"
        return "broken"
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return "unreachable"
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timeout"
    return "broken"
