from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class BatchesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BATCHES_", extra="ignore")

    service_name: str = "batches"
    database_url: str = "sqlite+aiosqlite:///./var/batches.db"
    port: int = 8003
    start_wait_seconds: float = Field(
        default=5.0, ge=0, description="How long a start (or cancel, or split) waits for "
        "inventory's answer before it answers 202; a request's `Prefer: wait=N` overrides it")
    max_wait_seconds: float = Field(
        default=9.0, ge=0, description="The longest `Prefer: wait` honoured; below the "
        "gateway's upstream timeout (10 s)")
    inventory_url: str = Field(
        default="http://127.0.0.1:8001", description="Inventory's API, asked whether the items "
        "a batch makes exist before finishing, and for a base batch's lot before a split")
    inventory_timeout_seconds: float = Field(default=3.0, gt=0)
    outcome_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often a waiting request re-reads its batch when "
        "no notification came (the safety net under LISTEN/NOTIFY)")
