"""Operators' view of a service's dead letters: list them, replay one after a fix.

Dead letters hold events of every organization, so only platform admins (tokens carrying the
`platform:admin` scope) may see them. The gateway aggregates these per service.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from servicekit.errors import InsufficientPermissions, NotFound
from servicekit.identity import Caller, CallerDep

PLATFORM_ADMIN_SCOPE = "platform:admin"


class DeadLetterNotFound(NotFound):
    default_message = "Dead letter not found"


class DeadLetterRead(BaseModel):
    id: str
    queue: str
    routing_key: str
    reason: str | None
    attempts: int
    event: dict[str, Any] | None
    body: str | None


class DeadLetterList(BaseModel):
    items: list[DeadLetterRead]
    total: int


async def platform_admin(caller: CallerDep) -> Caller:
    if PLATFORM_ADMIN_SCOPE not in caller.scopes:
        raise InsufficientPermissions("Only platform admins can handle dead letters")
    return caller


AdminDep = Annotated[Caller, Depends(platform_admin)]


def _queue(request: Request) -> str:
    return f"{request.app.state.settings.service_name}.events"


def admin_router() -> APIRouter:
    router = APIRouter(prefix="/admin", tags=["admin"])

    @router.get("/dead-letters")
    async def list_dead_letters(
        request: Request, _: AdminDep,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> DeadLetterList:
        letters = await request.app.state.runtime.transport.dead_letters(_queue(request), limit)
        items = []
        for letter in letters:
            try:
                event, body = json.loads(letter.body), None
            except ValueError:
                event, body = None, letter.body.decode("utf-8", "replace")
            items.append(DeadLetterRead(id=letter.id, queue=letter.queue,
                                        routing_key=letter.routing_key, reason=letter.reason,
                                        attempts=letter.attempts, event=event, body=body))
        return DeadLetterList(items=items, total=len(items))

    @router.post("/dead-letters/{dead_letter_id}/replay", status_code=202)
    async def replay_dead_letter(request: Request, dead_letter_id: str,
                                 _: AdminDep) -> dict[str, str]:
        transport = request.app.state.runtime.transport
        if not await transport.replay_dead_letter(_queue(request), dead_letter_id):
            raise DeadLetterNotFound(details={"dead_letter_id": dead_letter_id})
        return {"id": dead_letter_id, "status": "replayed"}

    return router
