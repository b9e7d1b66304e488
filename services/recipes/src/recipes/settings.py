from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class RecipesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RECIPES_", extra="ignore")

    service_name: str = "recipes"
    database_url: str = "sqlite+aiosqlite:///./var/recipes.db"
    port: int = 8002
