from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class ForecastingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FORECASTING_", extra="ignore")

    service_name: str = "forecasting"
    database_url: str = "sqlite+aiosqlite:///./var/forecasting.db"
    port: int = 8004
