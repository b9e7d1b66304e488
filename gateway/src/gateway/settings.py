"""The gateway's settings, read once by `python -m gateway` or built directly by tests."""

from __future__ import annotations

from pathlib import Path

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

    per_upstream_timeout_seconds: dict[str, float] = Field(
        default_factory=dict,
        description='Read timeouts that differ from the default, e.g. {"forecasting": 30}',
    )
    idempotent_retries: int = Field(
        default=1, ge=0, description="Extra attempts for GET/HEAD/OPTIONS/PUT/DELETE that "
        "failed to reach the upstream",
    )
    breaker_failure_threshold: int = Field(
        default=5, ge=1, description="Consecutive upstream failures that open its circuit"
    )
    breaker_reset_seconds: float = Field(
        default=10.0, gt=0, description="How long an open circuit refuses before a trial call"
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser"
    )

    # Identity: the gateway's own database, and the key pair that signs every token.
    database_url: str = "sqlite+aiosqlite:///./var/gateway.db"
    jwt_private_key: str | None = Field(default=None, description="Ed25519 private key, PEM")
    jwt_private_key_file: Path | None = None
    jwt_key_id: str = "gateway-1"
    jwt_issuer: str = "smallbatch-gateway"
    access_token_audience: str = "smallbatch-api"
    service_token_audience: str = "smallbatch-services"
    access_token_ttl_seconds: int = Field(default=900, ge=30)
    refresh_token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    service_token_ttl_seconds: int = Field(default=60, ge=10)

    # Rate limits: shared counters in Redis when set (several replicas), else in memory.
    redis_url: str | None = None
    rate_limits_enabled: bool = True
    rate_limit_key_prefix: str = Field(
        default="smallbatch:ratelimit", description="Prefix of the counters' keys in Redis"
    )
    rate_limit_scale: float = Field(
        default=1.0, gt=0, description="Multiplies every limit and quota (load tests set it "
        "high so each request still pays for its counter but none is refused)",
    )

    log_level: str = "INFO"
    log_json: bool = True

    def private_key_pem(self) -> str:
        if self.jwt_private_key:
            return self.jwt_private_key
        if self.jwt_private_key_file:
            return self.jwt_private_key_file.read_text()
        raise RuntimeError("set GATEWAY_JWT_PRIVATE_KEY or GATEWAY_JWT_PRIVATE_KEY_FILE")

    def read_timeout(self, service: str) -> float:
        return self.per_upstream_timeout_seconds.get(service, self.upstream_timeout_seconds)

    def upstream_urls(self) -> dict[str, str]:
        """Base URL of each service the gateway routes to, by service name."""
        return {
            "inventory": self.inventory_url,
            "recipes": self.recipes_url,
            "batches": self.batches_url,
            "forecasting": self.forecasting_url,
            "integrations": self.integrations_url,
        }
