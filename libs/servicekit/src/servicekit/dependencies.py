"""Annotated dependencies every service's routes use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from servicekit.context import current_request_id
from servicekit.db import Database, EventContext, UnitOfWork
from servicekit.identity import Caller, CallerDep, current_caller

__all__ = ["CallerDep", "UnitOfWorkDep"]


async def unit_of_work(
    request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> AsyncIterator[UnitOfWork]:
    """A unit of work for the caller's organization; the use case decides when to commit."""
    db: Database = request.app.state.db
    context = EventContext(org_id=caller.org_id, correlation_id=current_request_id())
    async with db.unit_of_work(context) as uow:
        yield uow


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]
