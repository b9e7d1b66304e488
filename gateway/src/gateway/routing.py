"""Which service owns a public path: `/api/v1/<area>/...` by area, plus a few public prefixes.

Services serve their public paths unchanged (inventory's router is `/api/v1/inventory`), so
the upstream path is the public one.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

API_PREFIX = "/api/v1/"

AREAS: MappingProxyType[str, str] = MappingProxyType({
    "inventory": "inventory",
    "units": "inventory",
    "recipes": "recipes",
    "recipe-categories": "recipes",
    "recipe-items": "recipes",
    "production": "recipes",
    "bom": "recipes",
    "batches": "batches",
    "resources": "batches",
    "schedules": "batches",
    "sales": "forecasting",
    "forecasts": "forecasting",
    "stock": "forecasting",
    "integrations": "integrations",
    "webhooks": "integrations",
})

# Paths outside /api/v1 that a service answers itself (Shopify signs what it posts here).
PUBLIC_PREFIXES: tuple[tuple[str, str], ...] = (
    ("/webhooks/shopify/", "integrations"),
)

SERVICES: frozenset[str] = frozenset(AREAS.values()) | {s for _, s in PUBLIC_PREFIXES}


class Target(NamedTuple):
    service: str
    path: str
    # The matched prefix (`/api/v1/inventory/*`): a low-cardinality route label for metrics.
    route: str


_AREA_ROUTES = {area: f"{API_PREFIX}{area}/*" for area in AREAS}


def resolve(path: str) -> Target | None:
    """The service that owns `path` and the path to ask it for, or None when no one does.

    Paths with `.` or `..` segments are refused rather than normalised: the gateway will
    decide by path which routes need which identity and limits, and must see the path the
    service sees.
    """
    if path.startswith(API_PREFIX):
        area, _, rest = path[len(API_PREFIX):].partition("/")
        service = AREAS.get(area)
        if service is None or (rest and _has_dot_segment(rest)):
            return None
        return Target(service, path, _AREA_ROUTES[area])
    for prefix, service in PUBLIC_PREFIXES:
        if path.startswith(prefix) and not _has_dot_segment(path):
            return Target(service, path, prefix + "*")
    return None


def _has_dot_segment(path: str) -> bool:
    return "." in path and any(segment in (".", "..") for segment in path.split("/"))
