from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class RecipesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RECIPES_", extra="ignore")

    service_name: str = "recipes"
    database_url: str = "sqlite+aiosqlite:///./var/recipes.db"
    port: int = 8002
    # Inventory's API, asked synchronously during stock checks and for items not yet seen.
    inventory_url: str = "http://127.0.0.1:8001"
    inventory_timeout_seconds: float = 3.0
