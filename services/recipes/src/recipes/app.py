from pathlib import Path

import httpx
from fastapi import FastAPI

from recipes import api, categories, planning
from recipes.bom import api as bom
from recipes.handlers import handlers
from recipes.settings import RecipesSettings
from servicekit.app import Role, create_service_app
from servicekit.messaging import Transport
from servicekit.peers import peer_http

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: RecipesSettings, *, role: Role = "all",
               transport: Transport | None = None,
               inventory_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """`inventory_transport` reaches inventory some other way than `settings.inventory_url`
    (in-process, in embedded mode)."""
    http = peer_http(settings.inventory_url, timeout=settings.inventory_timeout_seconds,
                     transport=inventory_transport)
    app = create_service_app(
        settings, title="Smallbatch Recipes",
        routers=[api.router, categories.router, planning.router, bom.router],
        handlers=handlers, role=role, transport=transport, on_stop=[_close_inventory_http],
        description="Recipes, their lines and portioning, costing, production planning and "
                    "bills of materials.",
    )
    app.state.inventory_http = http
    return app


async def _close_inventory_http(app: FastAPI) -> None:
    await app.state.inventory_http.aclose()
