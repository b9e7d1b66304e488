"""Asking another service synchronously (DESIGN.md: queries may be synchronous HTTP between
services, always with a timeout and the caller's identity; commands go over events).

    http = peer_http(settings.inventory_url, timeout=3.0)          # once per process
    inventory = PeerClient(http, caller, "inventory")              # per request
    item = await inventory.get("/api/v1/inventory/items/...")      # None on 404

The caller's own token is forwarded, so the other service applies its own rules to the same
person; the request id goes along. A peer that cannot be reached, times out, fails or refuses
the token is a 503 for our caller, never a half-answer.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import structlog

from servicekit.context import request_id_var
from servicekit.errors import ServiceUnavailable
from servicekit.identity import Caller

logger = structlog.get_logger("servicekit.peers")


class PeerUnavailable(ServiceUnavailable):
    default_message = "A service this request needs did not answer; try again shortly"


def peer_http(base_url: str, *, timeout: float,
              transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The pooled client for one peer service, made once per process (`transport` reaches it
    in-process in embedded mode)."""
    return httpx.AsyncClient(base_url=base_url, transport=transport,
                             timeout=httpx.Timeout(timeout))


class PeerClient:
    """One peer's API, called as `caller`."""

    def __init__(self, http: httpx.AsyncClient, caller: Caller, service: str) -> None:
        self._http = http
        self._service = service
        self._headers = {"Authorization": f"Bearer {caller.token}",
                         "X-Request-ID": request_id_var.get() or str(uuid.uuid4())}

    async def get(self, path: str, **options: Any) -> dict[str, Any] | None:
        """The JSON body, or None when the peer says 404."""
        response = await self._call("GET", path, **options)
        return None if response.status_code == 404 else response.json()  # type: ignore[no-any-return]

    async def post(self, path: str, json: Any, **options: Any) -> dict[str, Any]:
        response = await self._call("POST", path, json=json, **options)
        if response.status_code == 404:
            raise self._unavailable(response, "answered 404")
        return response.json()  # type: ignore[no-any-return]

    async def _call(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, headers=self._headers, **options)
        except httpx.HTTPError as error:
            logger.warning("peer unreachable", service=self._service, path=path,
                           error=repr(error))
            raise PeerUnavailable(details={"service": self._service}) from error
        if response.status_code >= 400 and response.status_code != 404:
            # Our request was well-formed for our caller; any refusal is the peer's trouble
            # (or a contract between us out of step), not something the caller can fix.
            raise self._unavailable(response, "refused")
        return response

    def _unavailable(self, response: httpx.Response, what: str) -> PeerUnavailable:
        logger.warning(f"peer {what}", service=self._service, path=response.request.url.path,
                       status=response.status_code, body=response.text[:500])
        return PeerUnavailable(details={"service": self._service,
                                        "status": response.status_code})
