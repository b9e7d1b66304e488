from pathlib import Path

from fastapi import FastAPI

import inventory.orders  # noqa: F401  (registers the order handlers on `handlers`)
from inventory import tracking_api
from inventory.catalog import api as catalog_api
from inventory.handlers import handlers
from inventory.settings import InventorySettings
from inventory.stock import api as stock_api
from inventory.units import api as units_api
from servicekit.app import Role, create_service_app
from servicekit.messaging import Transport

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: InventorySettings, *, role: Role = "all",
               transport: Transport | None = None) -> FastAPI:
    return create_service_app(
        settings, title="Smallbatch Inventory",
        routers=[catalog_api.router, units_api.router, stock_api.router, tracking_api.router],
        handlers=handlers, role=role, transport=transport,
        description="Items, units, lots, the stock ledger, reservations and traceability.",
    )
