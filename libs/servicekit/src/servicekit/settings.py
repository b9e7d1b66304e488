"""The settings every service shares. Each service subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Read once at start-up (`python -m <service>`), or built directly by tests.

    A subclass sets `model_config = SettingsConfigDict(env_prefix="INVENTORY_")`, so
    `INVENTORY_DATABASE_URL` configures the inventory service's database.
    """

    model_config = SettingsConfigDict(env_prefix="SERVICE_", extra="ignore")

    service_name: str = "service"
    database_url: str = "sqlite+aiosqlite:///./var/service.db"
    database_pool_size: int = Field(
        default=20, ge=1, description="Connections each process keeps open to its database: "
        "enough for a worker's 16 deliveries in flight and its relay, so that under load none "
        "is opened and closed (a new connection prepares every statement again)")
    database_max_overflow: int = Field(
        default=0, ge=0, description="Connections opened beyond the pool while it is all in "
        "use, and closed when returned (by default none: a unit of work waits for a pooled one)")
    database_pool_pre_ping: bool = Field(
        default=False, description="Ping each pooled connection as it is checked out (a round "
        "trip per unit of work); off, a dropped connection fails one unit of work instead")
    database_pool_recycle_seconds: float = Field(
        default=1800.0, ge=0, description="Replace pooled connections older than this (before "
        "an idle-cutting firewall or proxy does); 0 keeps them")
    broker_url: str = Field(
        default="memory://",
        description="amqp://user:pass@host:port/vhost for RabbitMQ; memory:// in embedded mode",
    )
    broker_namespace: str = Field(
        default="", description="Prefix for exchange and queue names (isolates test runs)"
    )
    publish_timeout_seconds: float = 5.0
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_retry_delays: list[float] = Field(default_factory=lambda: [1.0, 5.0, 30.0, 120.0])
    consumer_delivery_limit: int = Field(default=20, ge=1)
    outbox_poll_interval_seconds: float = 1.0
    outbox_batch_size: int = 100
    outbox_warn_age_seconds: float = 30.0
    outbox_fail_age_seconds: float = 300.0

    jwt_public_key: str | None = Field(
        default=None, description="PEM of the gateway's token-signing public key"
    )
    jwt_public_key_file: Path | None = None
    jwt_audience: str = "smallbatch-services"
    jwt_issuer: str = "smallbatch-gateway"

    host: str = "127.0.0.1"
    port: int = 8001
    log_level: str = "INFO"
    log_json: bool = True

    def public_key_pem(self) -> str:
        if self.jwt_public_key:
            return self.jwt_public_key
        if self.jwt_public_key_file:
            return self.jwt_public_key_file.read_text()
        raise RuntimeError(
            f"{self.service_name}: set {self.model_config.get('env_prefix', '')}JWT_PUBLIC_KEY "
            "or _JWT_PUBLIC_KEY_FILE to the gateway's public key"
        )
