from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class InventorySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INVENTORY_", extra="ignore")

    service_name: str = "inventory"
    database_url: str = "sqlite+aiosqlite:///./var/inventory.db"
    port: int = 8001
