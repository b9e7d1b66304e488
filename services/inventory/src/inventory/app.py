from pathlib import Path

from fastapi import FastAPI

from inventory import api
from inventory.handlers import handlers
from inventory.settings import InventorySettings
from servicekit.app import Role, create_service_app
from servicekit.messaging import Transport

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: InventorySettings, *, role: Role = "all",
               transport: Transport | None = None) -> FastAPI:
    return create_service_app(
        settings, title="Smallbatch Inventory", routers=[api.router], handlers=handlers,
        role=role, transport=transport,
        description="Items, units, lots, the stock ledger, reservations and traceability.",
    )
