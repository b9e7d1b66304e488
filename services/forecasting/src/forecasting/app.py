from pathlib import Path

from fastapi import FastAPI

from forecasting import api
from forecasting.handlers import handlers
from forecasting.settings import ForecastingSettings
from servicekit.app import Role, create_service_app
from servicekit.messaging import Transport

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: ForecastingSettings, *, role: Role = "all",
               transport: Transport | None = None) -> FastAPI:
    return create_service_app(
        settings, title="Smallbatch Forecasting", routers=[api.router], handlers=handlers,
        role=role, transport=transport,
        description=(
            "Sales history, demand forecasts and their accuracy; reorder and stock "
            "optimisation reports."
        ),
    )
