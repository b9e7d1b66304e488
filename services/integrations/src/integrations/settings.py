from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class IntegrationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTEGRATIONS_", extra="ignore")

    service_name: str = "integrations"
    database_url: str = "sqlite+aiosqlite:///./var/integrations.db"
    port: int = 8005
