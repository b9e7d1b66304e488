"""Units routes: the closed table of units, and conversion (through an item's density and count
unit when one is named)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from inventory.catalog.service import get_item, item_units
from inventory.units.schemas import ConversionRead, ConversionRequest, UnitRead, UnitType
from servicekit import units as domain
from servicekit.dependencies import CallerDep, UnitOfWorkDep
from servicekit.identity import READ_ONLY
from servicekit.pagination import Page, PageDep

router = APIRouter(prefix="/api/v1/units", tags=["units"])

_BASE = {u.dimension: u.symbol for u in domain.UNITS.values() if u.is_base}


def _read(unit: domain.Unit) -> UnitRead:
    return UnitRead(symbol=unit.symbol, name=unit.name, unit_type=unit.dimension,
                    base_unit=unit.is_base, base_symbol=_BASE[unit.dimension],
                    factor=unit.factor)


_UNITS = [_read(u) for u in domain.UNITS.values()]


@router.get("")
async def list_units(
    _: CallerDep, page: PageDep,
    unit_type: Annotated[UnitType | None, Query(description="Only mass, volume or count")] = None,
) -> Page[UnitRead]:
    """The units every item can be measured in; an item may add its own count unit."""
    units = [u for u in _UNITS if unit_type in (None, u.unit_type)]
    return Page.build(units[page.offset:page.offset + page.per_page], len(units), page)


@router.post("/convert", response_model=ConversionRead, openapi_extra=READ_ONLY)
async def convert(body: ConversionRequest, caller: CallerDep,
                  uow: UnitOfWorkDep) -> ConversionRead:
    item = (item_units(await get_item(uow, caller.org_id, body.item_id))
            if body.item_id is not None else None)
    domain.check_units({"from_unit": body.from_unit, "to_unit": body.to_unit}, item)
    return ConversionRead(
        converted_quantity=domain.convert(body.quantity, body.from_unit, body.to_unit, item),
        from_unit=body.from_unit, to_unit=body.to_unit,
        conversion_factor=domain.factor(body.from_unit, body.to_unit, item),
    )
