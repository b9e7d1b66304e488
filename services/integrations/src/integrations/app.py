from pathlib import Path

from fastapi import FastAPI

from integrations import api
from integrations.handlers import handlers
from integrations.settings import IntegrationsSettings
from servicekit.app import Role, create_service_app
from servicekit.messaging import Transport

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: IntegrationsSettings, *, role: Role = "all",
               transport: Transport | None = None) -> FastAPI:
    return create_service_app(
        settings, title="Smallbatch Integrations", routers=[api.router], handlers=handlers,
        role=role, transport=transport,
        description=(
            "Sales channels (Shopify, Amazon), SKU mappings, sync runs, and inbound and "
            "outbound webhooks."
        ),
    )
