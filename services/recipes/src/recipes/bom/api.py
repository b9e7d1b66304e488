"""Bill of materials routes: generate, list, fetch, export, delete."""

from __future__ import annotations

import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query, Response, status

from recipes.bom.export import EXPORTERS, ExportFormat
from recipes.bom.generating import generate
from recipes.bom.schemas import (
    BomLine,
    BomRead,
    BomRecipe,
    BomSummary,
    BomWrite,
)
from recipes.models import Bom
from recipes.schemas import ProblemRead
from servicekit.db import UnitOfWork
from servicekit.decimals import shown
from servicekit.dependencies import CallerDep, UnitOfWorkDep
from servicekit.errors import NotFound
from servicekit.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/api/v1/bom", tags=["bills of materials"])


class BomNotFound(NotFound):
    default_message = "Bill of materials not found"


@router.post("/generate", status_code=status.HTTP_201_CREATED, response_model=BomRead)
async def generate_bom(body: BomWrite, caller: CallerDep, uow: UnitOfWorkDep) -> BomRead:
    """Aggregate what several recipes need, through every sub-recipe, and save it."""
    bom = await generate(uow, caller, body)
    return read(bom)


@router.get("")
async def list_boms(caller: CallerDep, uow: UnitOfWorkDep, page: PageDep,
                    search: Annotated[str | None, Query(max_length=200)] = None,
                    ) -> Page[BomSummary]:
    query = sa.select(Bom).where(Bom.org_id == caller.org_id)
    if search:
        query = query.where(Bom.name.icontains(search, autoescape=True))
    query = query.order_by(Bom.created_at.desc(), Bom.id)
    return await paginate(uow.session, query, page, transform=_summary)


@router.get("/{bom_id}", response_model=BomRead)
async def get_bom(bom_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> BomRead:
    return read(await _get(uow, caller.org_id, bom_id))


@router.get("/{bom_id}/export", response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/json": {},
                                         "application/pdf": {}}}})
async def export_bom(bom_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep,
                     format: ExportFormat = "csv") -> Response:
    """The bill as a CSV a spreadsheet opens, JSON, or a PDF to print and shop from."""
    bom = read(await _get(uow, caller.org_id, bom_id))
    exporter = EXPORTERS[format]
    filename = f"bom-{bom.id}.{exporter.extension}"
    return Response(content=exporter.render(bom), media_type=exporter.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.delete("/{bom_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_bom(bom_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> Response:
    await uow.session.delete(await _get(uow, caller.org_id, bom_id))
    await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- reading -----------------------------------------------------------------------------------

def read(bom: Bom) -> BomRead:
    return BomRead(
        id=bom.id, name=bom.name, date=bom.date,
        recipes_included=[BomRecipe.model_validate(r) for r in bom.recipes],
        items=[BomLine.model_validate(line) for line in bom.lines],
        total_cost=shown(bom.total_cost), total_purchase_cost=shown(bom.total_purchase_cost),
        cost_complete=bom.cost_complete,
        problems=[ProblemRead.model_validate(p) for p in bom.problems],
        created_at=bom.created_at,
    )


def _summary(bom: Bom) -> BomSummary:
    return BomSummary(id=bom.id, name=bom.name, date=bom.date, recipes=len(bom.recipes),
                      lines=len(bom.lines), total_cost=shown(bom.total_cost),
                      total_purchase_cost=shown(bom.total_purchase_cost),
                      cost_complete=bom.cost_complete, created_at=bom.created_at)


async def _get(uow: UnitOfWork, org_id: uuid.UUID, bom_id: uuid.UUID) -> Bom:
    bom = await uow.session.scalar(sa.select(Bom).where(Bom.org_id == org_id, Bom.id == bom_id))
    if bom is None:
        raise BomNotFound(details={"bom_id": str(bom_id)})
    return bom
