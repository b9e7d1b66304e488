"""Every API request's way in: authenticate, spend the rate-limit budget, then route.

Pure ASGI, in front of both the gateway's own routes and the proxy. It leaves the caller at
`scope["state"]["principal"]` (None before login) and adds the rate-limit headers to every
response it lets through. A proxied request without credentials is refused here; a gateway
route decides for itself (login and register need none).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.principal import Principal
from gateway.routing import resolve
from servicekit.errors import AuthenticationRequired, DomainError, error_response

# Webhooks (`/webhooks/...`) pass untouched: their senders prove themselves by signature
# (HMAC), and the services that receive them verify it.
GUARDED_PREFIXES = ("/api/",)
# Sign-in routes take no caller: a stale token sent along must not stand in their way.
SIGN_IN_PREFIX = "/api/v1/auth/"


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class GatewayPipeline:
    """`proxy` takes the requests a service answers straight after the checks, skipping the
    gateway's own router: the hot path matches no route and builds no request object."""

    def __init__(self, app: ASGIApp, proxy: ASGIApp | None = None) -> None:
        self.app = app
        self.proxy = proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GUARDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        path, method = scope["path"], scope["method"]
        proxied = resolve(path) is not None
        try:
            principal: Principal | None = await state.identity.authenticator.authenticate(
                Headers(scope=scope), lenient=path.startswith(SIGN_IN_PREFIX)
            )
            if principal is None and proxied:
                raise AuthenticationRequired(
                    "Send `Authorization: Bearer <access token>` or `x-api-key: <key>`"
                )
        except DomainError as exc:
            response = error_response(exc.status_code, exc.code, exc.message, exc.details,
                                      exc.headers)
            await response(scope, receive, send)
            return

        decision = await state.rate_limiter.check(method, path, principal=principal,
                                                  client_ip=client_ip(scope))
        limit_headers = [(k.lower().encode(), str(v).encode())
                         for k, v in decision.headers().items()]
        if not decision.allowed:
            response = state.rate_limit_response(decision)
            await response(scope, receive, send)
            return

        scope.setdefault("state", {})["principal"] = principal

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start" and limit_headers:
                message["headers"] = [*message.get("headers", []), *limit_headers]
            await send(message)

        if proxied and self.proxy is not None:
            try:
                await self.proxy(scope, receive, send_with_limits)
            except DomainError as exc:
                response = error_response(exc.status_code, exc.code, exc.message, exc.details,
                                          exc.headers)
                await response(scope, receive, send_with_limits)
        else:
            await self.app(scope, receive, send_with_limits)
        if principal is not None and principal.acting_for is not None:
            await state.identity.audit_acting_request(principal, method, path)
