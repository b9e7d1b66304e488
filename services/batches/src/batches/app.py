from pathlib import Path

from fastapi import FastAPI

from batches import api
from batches.handlers import handlers
from batches.settings import BatchesSettings
from servicekit.app import Role, create_service_app
from servicekit.messaging import Transport

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: BatchesSettings, *, role: Role = "all",
               transport: Transport | None = None) -> FastAPI:
    return create_service_app(
        settings, title="Smallbatch Batches", routers=[api.router], handlers=handlers,
        role=role, transport=transport,
        description=(
            "Batches: consumption, outputs, containers and codes; production resources and "
            "schedules."
        ),
    )
