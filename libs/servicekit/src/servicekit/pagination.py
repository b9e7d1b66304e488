"""The fleet's list shape:
{"items", "total", "page", "per_page", "pages", "has_next", "has_prev"}.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
MAX_PAGE = 1_000_000  # keeps every OFFSET within what a database can skip


class PageParams(BaseModel):
    page: int = 1
    per_page: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def page_params(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1")] = 1,
    per_page: Annotated[int, Query(ge=1, le=100, description="Items per page")] = 20,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
    pages: int
    has_next: bool
    has_prev: bool

    @classmethod
    def build(cls, items: Sequence[T], total: int, params: PageParams) -> Page[T]:
        pages = math.ceil(total / params.per_page) if total else 0
        return cls(items=list(items), total=total, page=params.page, per_page=params.per_page,
                   pages=pages, has_next=params.page < pages, has_prev=params.page > 1)


async def paginate(session: AsyncSession, query: sa.Select[Any], params: PageParams,
                   transform: Callable[[Any], T] | None = None) -> Page[T]:
    """Run `query` (ordered by the caller) for one page and count its whole result."""
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    rows = (await session.scalars(query.limit(params.per_page).offset(params.offset))).all()
    items = [transform(row) for row in rows] if transform else list(rows)
    return Page.build(items, int(total or 0), params)
