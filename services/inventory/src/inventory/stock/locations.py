"""Locations and suppliers that stock refers to, always within the caller's organization."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.catalog.references import default_location
from inventory.models import Location, Supplier
from inventory.stock.errors import LocationNotFound, SupplierNotFound
from servicekit.db import UnitOfWork

__all__ = ["check_supplier", "default_location", "get_location", "location_or_default"]


async def get_location(session: AsyncSession, org_id: uuid.UUID,
                       location_id: uuid.UUID) -> Location:
    location = await session.scalar(
        sa.select(Location).where(Location.org_id == org_id, Location.id == location_id))
    if location is None:
        raise LocationNotFound(details={"location_id": str(location_id)})
    return location


async def location_or_default(uow: UnitOfWork, org_id: uuid.UUID,
                              location_id: uuid.UUID | None) -> Location:
    if location_id is None:  # the catalog decides which is the default, made on first use
        return await default_location(uow, org_id)
    return await get_location(uow.session, org_id, location_id)


async def check_supplier(session: AsyncSession, org_id: uuid.UUID,
                         supplier_id: uuid.UUID | None) -> None:
    if supplier_id is None:
        return
    found = await session.scalar(
        sa.select(Supplier.id).where(Supplier.org_id == org_id, Supplier.id == supplier_id))
    if found is None:
        raise SupplierNotFound(details={"supplier_id": str(supplier_id)})
