"""Writes made once under an `Idempotency-Key`: a repeat gets the same batches, as they are now.

The key is claimed by inserting its row first thing in the use case's transaction, and the
batches the write made are stored in that same transaction, so either both commit or neither
does. A concurrent request with the same key waits on the row's primary key until the first
transaction ends, then finds the batches (or, if the first failed, claims the key itself).
Unlike a stored response, the answer to a repeat is the batch's current state: a start that
answered 202 answers 201 (or 409) when repeated after the outcome is known.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite

from batches.errors import IdempotencyKeyReused
from batches.models import IdempotentRequest
from servicekit.db import UnitOfWork, utcnow
from servicekit.idempotency import Claim, fingerprint


@dataclass(frozen=True, slots=True)
class Repeat:
    batch_ids: list[uuid.UUID]


async def claim(uow: UnitOfWork, org_id: uuid.UUID, key: str | None, endpoint: str,
                request: BaseModel | None) -> Claim | Repeat | None:
    """Claim `key` for this request: a `Claim` to `remember` the batches under, the `Repeat`
    of an earlier request, or None without a key. Raises `IdempotencyKeyReused` when the key
    was used with a different body."""
    if key is None:
        return None
    digest = fingerprint(request)
    dialect_insert = sqlite.insert if uow.db.is_sqlite else postgresql.insert
    insert = dialect_insert(IdempotentRequest).values(
        org_id=org_id, key=key, endpoint=endpoint, request_hash=digest, batch_ids=[],
        created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["org_id", "key", "endpoint"])
    if (await uow.session.execute(insert)).rowcount == 1:  # type: ignore[attr-defined]
        return Claim(org_id, key, endpoint)
    stored = await uow.session.scalar(
        sa.select(IdempotentRequest).where(IdempotentRequest.org_id == org_id,
                                           IdempotentRequest.key == key,
                                           IdempotentRequest.endpoint == endpoint))
    assert stored is not None
    if stored.request_hash != digest:
        raise IdempotencyKeyReused(details={"idempotency_key": key})
    return Repeat([uuid.UUID(batch_id) for batch_id in stored.batch_ids])


async def remember(uow: UnitOfWork, claimed: Claim | None,
                   batch_ids: list[uuid.UUID]) -> None:
    """Store the batches the claimed request made (in the caller's transaction)."""
    if claimed is None:
        return
    await uow.session.execute(
        sa.update(IdempotentRequest)
        .where(IdempotentRequest.org_id == claimed.org_id, IdempotentRequest.key == claimed.key,
               IdempotentRequest.endpoint == claimed.endpoint)
        .values(batch_ids=[str(batch_id) for batch_id in batch_ids])
    )
