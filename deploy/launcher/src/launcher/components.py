"""The one place that knows every part of the fleet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

import batches.app
import forecasting.app
import integrations.app
import inventory.app
import recipes.app
from batches.settings import BatchesSettings
from forecasting.settings import ForecastingSettings
from integrations.settings import IntegrationsSettings
from inventory.settings import InventorySettings
from recipes.settings import RecipesSettings
from servicekit.settings import ServiceSettings


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    env_prefix: str
    port_offset: int
    settings_class: type[ServiceSettings]
    create_app: Callable[..., FastAPI]
    migrations_dir: Path
    # Services this one queries over HTTP: `create_app` takes `<peer>_transport` for each, and
    # its settings `<peer>_url`.
    peers: tuple[str, ...] = ()


SERVICES: tuple[Component, ...] = (
    Component("inventory", "INVENTORY_", 1, InventorySettings, inventory.app.create_app,
              inventory.app.MIGRATIONS_DIR),
    Component("recipes", "RECIPES_", 2, RecipesSettings, recipes.app.create_app,
              recipes.app.MIGRATIONS_DIR, peers=("inventory",)),
    Component("batches", "BATCHES_", 3, BatchesSettings, batches.app.create_app,
              batches.app.MIGRATIONS_DIR, peers=("inventory",)),
    Component("forecasting", "FORECASTING_", 4, ForecastingSettings,
              forecasting.app.create_app, forecasting.app.MIGRATIONS_DIR),
    Component("integrations", "INTEGRATIONS_", 5, IntegrationsSettings,
              integrations.app.create_app, integrations.app.MIGRATIONS_DIR),
)

COMPONENTS: dict[str, Component] = {component.name: component for component in SERVICES}
