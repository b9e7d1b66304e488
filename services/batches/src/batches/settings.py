from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class BatchesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BATCHES_", extra="ignore")

    service_name: str = "batches"
    database_url: str = "sqlite+aiosqlite:///./var/batches.db"
    port: int = 8003
