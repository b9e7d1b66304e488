"""The gateway's settings, read once by `python -m gateway` or built directly by tests."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class GatewaySettings(BaseSettings):
    """`GATEWAY_INVENTORY_URL=http://inventory:8001` points the gateway at a service."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000

    inventory_url: str = "http://127.0.0.1:8001"
    recipes_url: str = "http://127.0.0.1:8002"
    batches_url: str = "http://127.0.0.1:8003"
    forecasting_url: str = "http://127.0.0.1:8004"
    integrations_url: str = "http://127.0.0.1:8005"

    upstream_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest wait for an upstream's response (504 after)"
    )
    connect_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Longest wait to connect to an upstream (503 after)"
    )
    health_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Per-service budget of the fleet's /health"
    )
    max_body_bytes: int = Field(default=10 * MIB, ge=0, description="Larger requests get 413")
    upstream_max_connections: int = Field(default=100, ge=1,
                                          description="Connection pool size per upstream")
    # Below uvicorn's default keep-alive (5 s), so the gateway lets an idle connection go
    # before the service does and never writes a request into a socket being closed.
    upstream_keepalive_seconds: float = Field(default=4.0, gt=0)

    log_level: str = "INFO"
    log_json: bool = True

    def upstream_urls(self) -> dict[str, str]:
        """Base URL of each service the gateway routes to, by service name."""
        return {
            "inventory": self.inventory_url,
            "recipes": self.recipes_url,
            "batches": self.batches_url,
            "forecasting": self.forecasting_url,
            "integrations": self.integrations_url,
        }
