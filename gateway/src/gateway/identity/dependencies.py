"""Annotated dependencies of identity's routes.

The caller comes from `request.scope["state"]["principal"]`, which the gateway's middleware
sets (with `Authenticator`) before any route runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from gateway.identity.runtime import IdentityRuntime
from gateway.principal import Principal
from servicekit.context import current_request_id
from servicekit.db import EventContext, UnitOfWork
from servicekit.errors import AuthenticationRequired


def identity_runtime(request: Request) -> IdentityRuntime:
    return request.app.state.identity


IdentityDep = Annotated[IdentityRuntime, Depends(identity_runtime)]


def optional_principal(request: Request) -> Principal | None:
    return request.scope.get("state", {}).get("principal")


def current_principal(request: Request) -> Principal:
    principal = optional_principal(request)
    if principal is None:
        raise AuthenticationRequired(
            "Send `Authorization: Bearer <access token>` or `x-api-key: <key>`")
    return principal


OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def unit_of_work(identity: IdentityDep) -> AsyncIterator[UnitOfWork]:
    async with identity.db.unit_of_work(EventContext(correlation_id=current_request_id())) as uow:
        yield uow


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]
