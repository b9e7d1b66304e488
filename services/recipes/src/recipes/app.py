from pathlib import Path

from fastapi import FastAPI

from recipes import api
from recipes.handlers import handlers
from recipes.settings import RecipesSettings
from servicekit.app import Role, create_service_app
from servicekit.messaging import Transport

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: RecipesSettings, *, role: Role = "all",
               transport: Transport | None = None) -> FastAPI:
    return create_service_app(
        settings, title="Smallbatch Recipes", routers=[api.router], handlers=handlers,
        role=role, transport=transport,
        description="Recipes, their lines and portioning, costing, and bills of materials.",
    )
