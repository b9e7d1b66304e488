"""The CloudEvents 1.0 envelope every Smallbatch event travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """A CloudEvents 1.0 structured-mode JSON message plus Smallbatch's extension attributes.

    `type` is the routing key (`batches.BatchStarted.v1`); `orgid` names the tenant the event
    belongs to; `correlationid` follows one user action through every service it touches and is
    the request id of the HTTP request that caused it; `causationid` is the id of the event (or
    request) that directly caused this one.
    """

    model_config = ConfigDict(extra="ignore")

    specversion: str = "1.0"
    id: str = Field(default_factory=_new_id)
    source: str
    type: str
    time: datetime = Field(default_factory=_now)
    subject: str | None = None
    datacontenttype: str = "application/json"
    data: dict[str, Any]
    orgid: str
    correlationid: str | None = None
    causationid: str | None = None
    traceparent: str | None = None

    @field_validator("orgid")
    @classmethod
    def _orgid_is_a_uuid(cls, value: str) -> str:
        return str(uuid.UUID(value))

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, body: bytes) -> Envelope:
        return cls.model_validate_json(body)
