"""Writes answered once under an `Idempotency-Key`: a retry gets the stored answer.

The key is claimed by inserting its row at the start of the use case's transaction and the
answer is stored in the same transaction as the effect, so either both are committed or
neither is. A concurrent request with the same key waits on the row's primary key until the
first transaction ends, then finds the stored answer (or, if the first failed, claims the key
itself). Failed requests store nothing: a client may retry them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite

from inventory.models import IdempotentRequest
from inventory.stock.errors import IdempotencyKeyReused
from servicekit.db import UnitOfWork, utcnow
from servicekit.idempotency import Claim, fingerprint

_UNANSWERED = 0


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: dict[str, Any]


async def claim(uow: UnitOfWork, org_id: uuid.UUID, key: str | None, endpoint: str,
                request: BaseModel) -> Claim | Answer | None:
    """Claim `key` for this request. Returns the stored `Answer` for a repeat, a `Claim` to
    `remember` the answer under, or None when the request carries no key. Raises
    `IdempotencyKeyReused` when the key was used with a different body."""
    if key is None:
        return None
    digest = fingerprint(request)
    insert = (sqlite.insert if uow.db.is_sqlite else postgresql.insert)(IdempotentRequest).values(
        org_id=org_id, key=key, endpoint=endpoint, request_hash=digest,
        status_code=_UNANSWERED, response={}, created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["org_id", "key", "endpoint"])
    if (await uow.session.execute(insert)).rowcount == 1:  # type: ignore[attr-defined]
        return Claim(org_id, key, endpoint)
    stored = await uow.session.scalar(
        sa.select(IdempotentRequest).where(IdempotentRequest.org_id == org_id,
                                           IdempotentRequest.key == key,
                                           IdempotentRequest.endpoint == endpoint))
    assert stored is not None and stored.status_code != _UNANSWERED
    if stored.request_hash != digest:
        raise IdempotencyKeyReused(details={"idempotency_key": key, "endpoint": endpoint})
    return Answer(stored.status_code, stored.response)


async def remember(uow: UnitOfWork, claimed: Claim | None, answer: Answer) -> None:
    """Store the answer under the claimed key (in the caller's transaction)."""
    if claimed is None:
        return
    await uow.session.execute(
        sa.update(IdempotentRequest)
        .where(IdempotentRequest.org_id == claimed.org_id, IdempotentRequest.key == claimed.key,
               IdempotentRequest.endpoint == claimed.endpoint)
        .values(status_code=answer.status_code, response=answer.body)
    )
