"""How long a request waits for inventory's answer, and the waiting itself.

A start (a split, a cancel) commits first and then waits on the app's `OutcomeBoard` for the
batches it made to settle, for `Prefer: wait=N` seconds (RFC 7240; capped) or the configured
default; the route answers with whatever state they are in by then.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable

from fastapi import Request

from batches import views
from batches.outcomes import BatchState, OutcomeBoard, States
from batches.settings import BatchesSettings

PENDING = BatchState("pending", deducted=False)


def preferred_wait(prefer: str | None, settings: BatchesSettings) -> float:
    """The seconds to wait for an outcome: `Prefer: wait=N` (RFC 7240) within the cap, 0 for
    `respond-async` alone, else the configured default."""
    wait: float | None = None
    respond_async = False
    for preference in (prefer or "").split(","):
        token = preference.split(";", 1)[0].strip().lower()
        name, _, value = token.partition("=")
        if name.strip() == "respond-async":
            respond_async = True
        elif name.strip() == "wait":
            try:
                wait = float(value.strip().strip('"'))
            except ValueError:
                continue
            if not math.isfinite(wait):
                wait = None
    if wait is None:
        wait = 0.0 if respond_async else settings.start_wait_seconds
    return max(0.0, min(wait, settings.max_wait_seconds))


async def await_answers(request: Request, org_id: uuid.UUID, batch_ids: list[uuid.UUID],
                        prefer: str | None, *, fresh: bool) -> bool:
    """Wait (bounded) until inventory has answered the start of every batch; whether it has.
    `fresh`: the batches were just stored as pending, so nothing need be read first."""
    return await await_states(request, org_id, batch_ids, prefer,
                              lambda states: all(s.start_answered for s in states.values()),
                              known={i: PENDING for i in batch_ids} if fresh else None)


async def await_states(request: Request, org_id: uuid.UUID, batch_ids: list[uuid.UUID],
                       prefer: str | None, settled: Callable[[States], bool],
                       known: States | None = None) -> bool:
    """Wait (bounded) until `settled` holds for the batches' states; whether it does."""
    board: OutcomeBoard = request.app.state.outcomes
    db = request.app.state.db

    async def read() -> States:
        async with db.sessionmaker() as session:
            return await views.states(session, org_id, batch_ids)

    return await board.wait(batch_ids, settled, read,
                            preferred_wait(prefer, request.app.state.settings), known=known)
