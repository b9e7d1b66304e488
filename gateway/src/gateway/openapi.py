"""One OpenAPI document for the whole public API, merged from every service's own.

Only public paths (`/api/...`, `/webhooks/...`) are taken. Schemas with the same name and the
same content are shared; a name two services define differently is prefixed with the service
name in that service's part. The merge is cached briefly; a service that does not answer is
listed under `x-unavailable-services` and merged on a later request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from gateway.proxy import Upstreams

PUBLIC_PREFIXES = ("/api/", "/webhooks/")
CACHE_SECONDS = 30.0


def merge_documents(documents: dict[str, dict[str, Any]], *, title: str,
                    version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for service, document in sorted(documents.items()):
        own = document.get("components", {}).get("schemas", {})
        renamed = {name: f"{service}__{name}" for name, schema in own.items()
                   if name in schemas and schemas[name] != schema}
        if renamed:
            text = json.dumps(document)
            for old, new in renamed.items():
                text = text.replace(f'"#/components/schemas/{old}"',
                                    f'"#/components/schemas/{new}"')
            document = json.loads(text)
            own = document.get("components", {}).get("schemas", {})
        for name, schema in own.items():
            schemas[renamed.get(name, name)] = schema
        for path, item in document.get("paths", {}).items():
            if path.startswith(PUBLIC_PREFIXES):
                paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "The Smallbatch public API: every service, through the gateway.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
        "security": [{"bearerAuth": []}],
    }


class MergedOpenAPI:
    def __init__(self, upstreams: Upstreams, *, title: str, version: str,
                 timeout_seconds: float,
                 own_document: Callable[[], dict[str, Any]] | None = None) -> None:
        self.upstreams = upstreams
        self.own_document = own_document
        self.title = title
        self.version = version
        self.timeout_seconds = timeout_seconds
        self._cached: dict[str, Any] | None = None
        self._cached_at = 0.0
        self._lock = asyncio.Lock()

    async def document(self) -> dict[str, Any]:
        async with self._lock:
            if self._cached is None or time.monotonic() - self._cached_at > CACHE_SECONDS:
                self._cached = await self._build()
                self._cached_at = time.monotonic()
            return self._cached

    async def _build(self) -> dict[str, Any]:
        services = sorted(self.upstreams.base_urls)
        fetched = await asyncio.gather(*(self._fetch(s) for s in services))
        documents = {s: doc for s, doc in zip(services, fetched, strict=True) if doc is not None}
        if self.own_document is not None:
            documents["gateway"] = self.own_document()
        merged = merge_documents(documents, title=self.title, version=self.version)
        missing = sorted(set(services) - documents.keys())
        if missing:
            merged["x-unavailable-services"] = missing
            self._cached_at = 0.0  # try them again next time
        return merged

    async def _fetch(self, service: str) -> dict[str, Any] | None:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                response = await self.upstreams.client(service).get("/openapi.json")
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, TimeoutError, ValueError):
            return None


def openapi_router(merged: MergedOpenAPI) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    async def openapi() -> JSONResponse:
        return JSONResponse(await merged.document())

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{merged.title} — docs")

    return router
