"""What `Idempotency-Key` handling shares across services: recognising the same request."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel


def fingerprint(request: BaseModel | None) -> str:
    """A hash of what the request asks for: equal numbers written differently (1, 1.0) and
    reordered keys give the same fingerprint."""
    payload = request.model_dump(mode="python") if request is not None else None
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_canonical)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Claim:
    """A key this request holds: (organization, key, endpoint)."""

    org_id: uuid.UUID
    key: str
    endpoint: str
